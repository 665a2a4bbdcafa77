import ArgumentParser
import BosunCore
import Credentials
import Foundation

/// `bosun interpolate` (`int`): applies ops files and variables to a YAML file offline, printing
/// exactly what `bosh int` prints.
struct InterpolateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interpolate",
        abstract: "Interpolates variables into a manifest",
        aliases: ["int"]
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Path to a template that will be interpolated ('-' for standard input)")
    var manifest: String

    @OptionGroup var variables: ManifestVariableOptions

    @Option(
        name: .customLong("path"),
        help: ArgumentHelp("Extract value out of template (e.g.: /private_key)", valueName: "OP-PATH"))
    var path: String?

    @Flag(name: .customLong("var-errs"), help: "Expect all variables to be found, otherwise error")
    var varErrors = false

    @Flag(name: .customLong("var-errs-unused"), help: "Expect all variables to be used, otherwise error")
    var varErrorsUnused = false

    func run() throws {
        do {
            let output = try interpolate(environment: ProcessInfo.processInfo.environment)
            FileHandle.standardOutput.write(Data(output.utf8))
        } catch {
            throw error.report()
        }
    }

    /// Everything `run` does but printing, so tests can call it.
    func interpolate(environment: [String: String]) throws(CommandFailure) -> String {
        let flags = global.resolved(environment: environment)
        let request = InterpolationRequest(
            manifestPath: manifest, vars: variables.vars, varFiles: variables.varFiles, varsFiles: variables.varsFiles,
            varsEnv: variables.varsEnv, varsStore: variables.varsStore, opsFiles: variables.opsFiles, path: path,
            expectAllFound: varErrors,
            expectAllUsed: varErrorsUnused)
        let text = try request.run(environment: environment)
        if flags.json {
            return JSONBlocks.render(blocks: [text])
        }
        return text
    }
}

/// The work of `interpolate`, independent of argument parsing.
struct InterpolationRequest {
    var manifestPath: String
    var vars: [String] = []
    var varFiles: [String] = []
    var varsFiles: [String] = []
    var varsEnv: [String] = []
    var varsStore: String?
    var opsFiles: [String] = []
    var path: String?
    var expectAllFound = false
    var expectAllUsed = false

    func run(environment: [String: String]) throws(CommandFailure) -> String {
        let manifestText = try Self.read(manifestPath, what: "manifest")
        let template: ManifestTemplate
        do {
            template = try ManifestTemplate(parsing: manifestText, source: manifestPath)
        } catch {
            throw CommandFailure(message: "Parsing manifest '\(manifestPath)': \(error.message)")
        }
        let operations = try opsFiles.map { (file) throws(CommandFailure) -> OpsFile in
            do {
                return try OpsFile(parsing: try Self.read(file, what: "ops file"), source: file)
            } catch let error as OpsFile.InvalidError {
                throw CommandFailure(message: error.description)
            } catch let error as CommandFailure {
                throw error
            } catch {
                throw CommandFailure(message: "\(error)")
            }
        }
        var pointer: PatchPointer?
        if let path {
            do {
                pointer = try PatchPointer(parsing: path)
            } catch {
                throw CommandFailure(message: "Invalid --path '\(path)': \(error.description)")
            }
        }
        let staticVariables = try VariableArguments(
            vars: vars, varFiles: varFiles, varsFiles: varsFiles, varsEnv: varsEnv
        ).load(environment: environment)
        var sources: [any VariableSource] = [staticVariables]
        var store: VariableStore?
        if let varsStore {
            do {
                store = try VariableStore(path: varsStore, generator: CredentialGenerator())
            } catch {
                throw CommandFailure(message: error.description)
            }
            sources.append(store!)
        }
        let variables = LayeredVariables(sources)
        store?.lookupSources = variables
        let result: YAMLValue
        do {
            result = try template.evaluate(
                variables: variables, opsFiles: operations,
                options: .init(
                    expectAllVariablesFound: expectAllFound, expectAllVariablesUsed: expectAllUsed, path: pointer))
        } catch {
            throw CommandFailure(message: error.description)
        }
        do {
            try store?.save()
        } catch {
            throw CommandFailure(message: error.description)
        }
        // With --path a string is printed as is: an extracted key or certificate is directly usable.
        if pointer != nil, case .string(let text) = result {
            return text + "\n"
        }
        return result.yamlText()
    }

    /// A YAML file's text (`-`: standard input); invalid UTF-8 or a file over the YAML size limit
    /// is refused naming where, never decoded with replacement characters.
    static func read(_ path: String, what: String) throws(CommandFailure) -> String {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw CommandFailure(message: "Reading \(what) '\(path)': no such file or not readable")
            }
            data = contents
        }
        do {
            return try YAMLValue.text(decoding: data, source: path)
        } catch {
            throw CommandFailure(message: "Reading \(what) '\(path)': \(error.message)")
        }
    }
}
