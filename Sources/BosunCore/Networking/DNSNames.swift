/// BOSH's DNS names for instances (`features.use_dns_addresses`), under the `bosh` domain:
/// `<uuid>.<group>.<network>.<deployment>.bosh` for one instance, `<index>.<group>…` for the same
/// by index, and `q-s0.<group>.<network>.<deployment>.bosh` for every instance of a group (BOSH's
/// "all healthy" query; Bosun's agents answer it from `/etc/hosts`, one line per instance).
/// Labels are lower-cased with `_` turned into `-`, as BOSH canonicalises them.
public enum DNSNames {
    public static let domain = "bosh"

    public static func label(_ text: String) -> String {
        String(text.lowercased().map { $0 == "_" ? "-" : $0 })
    }

    public static func instance(_ id: String, group: String, network: String, deployment: String) -> String {
        [id, group, network, deployment].map(label).joined(separator: ".") + "." + domain
    }

    public static func groupQuery(group: String, network: String, deployment: String) -> String {
        "q-s0." + [group, network, deployment].map(label).joined(separator: ".") + "." + domain
    }
}
