/// Several named cloud configs (`bosh update-config --type cloud --name X`) read as one, as the
/// BOSH director reads them: their `azs`, `networks`, `vm_types`, `vm_extensions` and
/// `disk_types` lists are joined in config-name order, and `compilation` comes from the one
/// config that has it. A name defined by two configs, or `compilation` in two, is an error
/// naming both configs, instead of one silently shadowing the other.
public enum CloudConfigMerge {
    public static let listKeys = ["azs", "networks", "vm_types", "vm_extensions", "disk_types"]

    public struct Named: Sendable {
        public var name: String
        public var document: YAMLValue

        public init(name: String, document: YAMLValue) {
            self.name = name
            self.document = document
        }
    }

    public struct Conflict: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// One document holding every config's entries; a single config is returned as it is.
    public static func merge(_ configs: [Named]) throws(Conflict) -> YAMLValue {
        let ordered = configs.sorted { $0.name < $1.name }
        if ordered.count == 1 { return ordered[0].document }
        var lists: [String: [YAMLValue]] = [:]
        var compilation: YAMLValue?
        var owners: [String: [String: String]] = [:]  // key → entry name → config name
        var compilationOwner: String?
        for config in ordered {
            guard let map = config.document.mapValue else { continue }
            for key in listKeys {
                guard let entries = map[.string(key)]?.arrayValue else { continue }
                for entry in entries {
                    if let name = entry["name"]?.stringValue {
                        if let other = owners[key]?[name] {
                            throw Conflict(
                                description:
                                    "\(key) '\(name)' is defined by cloud configs '\(other)' and '\(config.name)'")
                        }
                        owners[key, default: [:]][name] = config.name
                    }
                    lists[key, default: []].append(entry)
                }
            }
            if let own = map["compilation"], !own.isNull {
                if let compilationOwner {
                    throw Conflict(
                        description:
                            "compilation is defined by cloud configs '\(compilationOwner)' and '\(config.name)'; only one may"
                    )
                }
                compilationOwner = config.name
                compilation = own
            }
        }
        var merged = YAMLMap()
        for key in listKeys { if let entries = lists[key] { merged[.string(key)] = .array(entries) } }
        if let compilation { merged["compilation"] = compilation }
        return .map(merged)
    }
}
