import ArgumentParser

/// The bosh CLI's global flags. Each falls back to `BOSUN_<NAME>`, then to the `BOSH_<NAME>` variable
/// operators already export, so existing shells and scripts keep working.
public struct GlobalOptions: ParsableArguments {
    @Option(name: [.customShort("e"), .long], help: "Director environment name or URL (BOSUN_ENVIRONMENT, BOSH_ENVIRONMENT)")
    public var environment: String?

    @Option(name: [.customShort("d"), .long], help: "Deployment name (BOSUN_DEPLOYMENT, BOSH_DEPLOYMENT)")
    public var deployment: String?

    @Flag(name: [.customShort("n"), .long], help: "Don't ask for user input (BOSUN_NON_INTERACTIVE, BOSH_NON_INTERACTIVE)")
    public var nonInteractive = false

    @Flag(name: .long, help: "Output as JSON")
    public var json = false

    @Option(name: .customLong("ca-cert"), help: "Director CA certificate path or value (BOSUN_CA_CERT, BOSH_CA_CERT)")
    public var caCert: String?

    @Option(name: .long, help: "Override username or UAA client (BOSUN_CLIENT, BOSH_CLIENT)")
    public var client: String?

    @Option(name: .customLong("client-secret"), help: "Override password or UAA client secret (BOSUN_CLIENT_SECRET, BOSH_CLIENT_SECRET)")
    public var clientSecret: String?

    public init() {}

    /// Names of options that take a value, for moving global flags written before the command.
    static let optionsWithValues: Set<String> = [
        "-e", "--environment", "-d", "--deployment", "--ca-cert", "--client", "--client-secret",
    ]
    static let flags: Set<String> = ["-n", "--non-interactive", "--json"]

    /// The options after applying the environment fallbacks.
    public func resolved(environment variables: [String: String]) -> GlobalOptions {
        func fallback(_ value: String?, _ name: String) -> String? {
            value ?? variables["BOSUN_" + name] ?? variables["BOSH_" + name]
        }
        var result = self
        result.environment = fallback(environment, "ENVIRONMENT")
        result.deployment = fallback(deployment, "DEPLOYMENT")
        result.caCert = fallback(caCert, "CA_CERT")
        result.client = fallback(client, "CLIENT")
        result.clientSecret = fallback(clientSecret, "CLIENT_SECRET")
        if !nonInteractive {
            let value = fallback(nil, "NON_INTERACTIVE")
            result.nonInteractive = value == "true" || value == "1"
        }
        return result
    }
}
