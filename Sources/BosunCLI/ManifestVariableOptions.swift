import ArgumentParser

/// The variable and ops-file flags `interpolate` and `deploy` share, as `bosh` has them.
struct ManifestVariableOptions: ParsableArguments {
    @Option(name: [.customShort("v"), .customLong("var")], help: ArgumentHelp("Set variable", valueName: "VAR=VALUE"))
    var vars: [String] = []

    @Option(name: .customLong("var-file"), help: ArgumentHelp("Set variable to file contents", valueName: "VAR=PATH"))
    var varFiles: [String] = []

    @Option(name: [.customShort("l"), .customLong("vars-file")], help: ArgumentHelp("Load variables from a YAML file", valueName: "PATH"))
    var varsFiles: [String] = []

    @Option(name: .customLong("vars-env"), help: ArgumentHelp("Load variables from environment variables (e.g.: 'MY' to load MY_var=value)", valueName: "PREFIX"))
    var varsEnv: [String] = []

    @Option(name: .customLong("vars-store"), help: ArgumentHelp("Load/save variables from/to a YAML file", valueName: "PATH"))
    var varsStore: String?

    @Option(name: [.customShort("o"), .customLong("ops-file")], help: ArgumentHelp("Load manifest operations from a YAML file", valueName: "PATH"))
    var opsFiles: [String] = []
}
