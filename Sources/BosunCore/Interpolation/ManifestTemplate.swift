/// What `bosh int` does to a manifest: apply ops files, then interpolate `((variables))` (generating
/// `variables:` entries a store can make), then optionally extract one path.
public struct ManifestTemplate {
    public var document: YAMLValue

    public struct Options {
        /// `--var-errs`: fail when a referenced variable has no value.
        public var expectAllVariablesFound = false
        /// `--var-errs-unused`: fail when a provided variable is never referenced.
        public var expectAllVariablesUsed = false
        /// `--path`: print only this part of the result.
        public var path: PatchPointer? = nil

        public init(
            expectAllVariablesFound: Bool = false, expectAllVariablesUsed: Bool = false, path: PatchPointer? = nil
        ) {
            self.expectAllVariablesFound = expectAllVariablesFound
            self.expectAllVariablesUsed = expectAllVariablesUsed
            self.path = path
        }
    }

    public enum EvaluationError: Error, CustomStringConvertible {
        case patch(PatchError)
        case interpolation(InterpolationError)

        public var description: String {
            switch self {
            case .patch(let error): return error.description
            case .interpolation(let error): return error.description
            }
        }
    }

    public init(document: YAMLValue) { self.document = document }

    public init(parsing text: String, source: String = "manifest") throws(YAMLSyntaxError) {
        document = try YAMLValue.parse(text, source: source)
    }

    /// Parses a manifest's bytes, refusing invalid UTF-8 with its position (see `YAMLValue.parse(bytes:)`).
    public init(parsing bytes: some Collection<UInt8>, source: String = "manifest") throws(YAMLSyntaxError) {
        document = try YAMLValue.parse(bytes: bytes, source: source)
    }

    public func evaluate(
        variables: any VariableSource, opsFiles: [OpsFile] = [], options: Options = Options()
    ) throws(EvaluationError) -> YAMLValue {
        var result = document
        do {
            for opsFile in opsFiles { try opsFile.apply(&result) }
        } catch {
            throw .patch(error)
        }
        do throws(InterpolationError) {
            let definitions = try Self.definitions(in: result)
            let tracker = VariablesTracker(sources: variables, definitions: definitions)
            // Resolve definitions in order first, so that a certificate's CA exists before it.
            for definition in definitions where !definition.type.isEmpty {
                do {
                    _ = try tracker.value(named: definition.name)
                } catch {
                    throw InterpolationError(
                        "Getting all variables from variable definitions sections: \(error.description)")
                }
            }
            try Interpolator(tracker: tracker).interpolate(&result)
            result = try Self.removeResolvedDefinitions(from: result, tracker: tracker)
            var problems: [String] = []
            if options.expectAllVariablesFound && !tracker.missing.isEmpty {
                problems.append(
                    InterpolationError.bulletList("Expected to find variables", Array(tracker.missing)).description)
            }
            if options.expectAllVariablesUsed {
                let unused = variables.names().filter { !tracker.used.contains($0) }
                if !unused.isEmpty {
                    problems.append(InterpolationError.bulletList("Expected to use variables", unused).description)
                }
            }
            if !problems.isEmpty { throw InterpolationError(problems.joined(separator: "\n")) }
        } catch {
            throw .interpolation(error)
        }
        if let path = options.path {
            do {
                result = try PatchFind(pointer: path).find(in: result)
            } catch {
                throw .patch(error)
            }
        }
        return result
    }

    /// The `variables:` section as definitions; malformed entries are reported by position.
    static func definitions(in document: YAMLValue) throws(InterpolationError) -> [VariableDefinition] {
        guard case .map(let root) = document, let section = root[.string("variables")], !section.isNull else {
            return []
        }
        guard case .array(let entries) = section else {
            throw InterpolationError("variables: expected a list, found \(section.goTypeName)")
        }
        var definitions: [VariableDefinition] = []
        for (index, entry) in entries.enumerated() {
            guard case .map(let fields) = entry else {
                throw InterpolationError("variables[\(index)]: expected a map, found \(entry.goTypeName)")
            }
            func text(_ key: String) throws(InterpolationError) -> String {
                switch fields[.string(key)] {
                case nil, .null?: return ""
                case .string(let s)?: return s
                case let other?:
                    throw InterpolationError(
                        "variables[\(index)].\(key): expected a string, found \(other.goTypeName)")
                }
            }
            definitions.append(
                VariableDefinition(
                    name: try text("name"), type: try text("type"), options: fields[.string("options")] ?? .null))
        }
        return definitions
    }

    /// BOSH drops from the printed `variables:` section every definition that now has a value.
    private static func removeResolvedDefinitions(
        from document: YAMLValue, tracker: VariablesTracker
    )
        throws(InterpolationError) -> YAMLValue
    {
        var result = document
        for definition in tracker.definitions {
            guard try tracker.value(named: definition.name) != nil else { continue }
            let pointer = PatchPointer(tokens: [
                .root, .key("variables", optional: false),
                .matching(key: "name", value: definition.name, optional: false, modifiers: []),
            ])
            do {
                try PatchOperation.remove(path: pointer).apply(&result)
            } catch {
                throw InterpolationError(error.description)
            }
        }
        return result
    }
}
