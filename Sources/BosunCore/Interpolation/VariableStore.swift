import Foundation

/// Makes a value for a `variables:` entry of a given type (password, certificate, rsa, ssh).
public protocol VariableGenerator {
    /// - Parameter lookup: finds another variable's value (a certificate's CA).
    func generate(_ definition: VariableDefinition, lookup: (String) throws -> YAMLValue?) throws -> YAMLValue
}

/// `--vars-store FILE`: values read from a YAML file, and values generated for definitions that
/// have a type but no value yet.
///
/// Unlike the bosh CLI, which rewrites the file after every generated value, nothing is written
/// until `save()` — the command calls it only after the whole evaluation succeeded, so a failed
/// `interpolate` leaves the store untouched. The file is written atomically with mode 0600.
public final class VariableStore: VariableSource {
    public let path: String
    public private(set) var values: [String: YAMLValue]
    public private(set) var generatedNames: [String] = []
    private let generator: any VariableGenerator
    /// Where a generator looks up other variables (the CA of a certificate): all sources, in order.
    public var lookupSources: (any VariableSource)?

    public struct StoreError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(path: String, generator: any VariableGenerator) throws(StoreError) {
        self.path = path
        self.generator = generator
        guard FileManager.default.fileExists(atPath: path) else {
            values = [:]
            return
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw StoreError(description: "Reading variables file store '\(path)': \(error.localizedDescription)")
        }
        do {
            // Bytes, so that invalid UTF-8 is refused with its position.
            values = try StaticVariables(parsingVarsFile: data, source: path).values
        } catch {
            throw StoreError(description: "Deserializing variables file store '\(path)': \(error.message)")
        }
    }

    public func value(for definition: VariableDefinition) throws -> YAMLValue? {
        if let value = values[definition.name] { return value }
        guard !definition.type.isEmpty else { return nil }
        let lookupSources: any VariableSource = self.lookupSources ?? self
        let value = try generator.generate(definition) { name in
            try lookupSources.value(for: VariableDefinition(name: name))
        }
        values[definition.name] = value
        generatedNames.append(definition.name)
        return value
    }

    public func names() -> [String] { Array(values.keys) }

    /// Writes the store if anything was generated.
    public func save() throws(StoreError) {
        guard !generatedNames.isEmpty else { return }
        var map = YAMLMap()
        for (name, value) in values { map[.string(name)] = value }
        let text = YAMLValue.map(map).yamlText()
        let directory = (path as NSString).deletingLastPathComponent
        let temporary =
            (directory.isEmpty ? "." : directory) + "/.\((path as NSString).lastPathComponent).\(getpid()).tmp"
        guard
            FileManager.default.createFile(
                atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else {
            throw StoreError(description: "Writing variables to file store '\(path)': cannot create \(temporary)")
        }
        if rename(temporary, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw StoreError(description: "Writing variables to file store '\(path)': \(reason)")
        }
    }
}
