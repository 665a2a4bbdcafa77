/// A synthetic but realistic interpolation workload: a cf-deployment-like manifest with many
/// instance groups, nested properties, `((variables))` of every kind, and 20 ops files that scale,
/// add jobs, insert before/after, remove, and set optional keys.
struct InterpolationWorkload {
    let manifest: String
    let opsFiles: [String]
    let vars: String
    let variableCount: Int

    init(groups: Int) {
        var lines: [String] = [
            "name: big", "director_uuid: ignored",
            "releases:",
        ]
        for r in 0..<12 { lines += ["- name: release-\(r)", "  version: \(r).\(r * 3).0", "  url: https://example.invalid/r\(r).tgz", "  sha1: sha256:\(String(repeating: "ab", count: 32))"] }
        lines += ["stemcells:", "- alias: default", "  os: ubuntu-jammy", "  version: latest",
            "update:", "  canaries: 1", "  max_in_flight: 10%", "  canary_watch_time: 30000-1200000", "  update_watch_time: 5000-1200000", "  serial: false",
            "instance_groups:"]
        var variables: [String] = []
        for g in 0..<groups {
            lines += ["- name: group-\(g)", "  azs: [z1, z2, z3]", "  instances: ((group_\(g)_instances))", "  vm_type: small",
                "  vm_extensions: [ext-a, ext-b]", "  stemcell: default", "  persistent_disk_type: 10GB",
                "  networks:", "  - name: default", "  jobs:"]
            for j in 0..<3 {
                lines += ["  - name: job-\(j)", "    release: release-\(j % 12)", "    properties:",
                    "      job\(j):", "        url: https://group-\(g).((system_domain)):((port_\(g % 10)))/v\(j)",
                    "        password: ((group_\(g)_password))", "        tls: ((group_\(g)_tls))",
                    "        ca: ((group_\(g)_tls.ca))", "        users:",
                    "        - {name: admin, password: ((group_\(g)_password)), groups: [admins, \"yes\", 007]}",
                    "        - {name: reader, password: ((reader_password)), groups: [readers]}",
                    "        description: this is a fairly long line of text so that the printer has to fold it past the eighty column limit like go-yaml does",
                    "        limits: {memory: 1024, cpu: 1.5, enabled: true, ratio: 0.25}"]
            }
            variables += ["- name: group_\(g)_password", "  type: password",
                "- name: group_\(g)_tls", "  type: certificate", "  options: {ca: default_ca, common_name: group-\(g).((system_domain))}"]
        }
        lines += ["variables:", "- name: default_ca", "  type: certificate", "  options: {is_ca: true, common_name: ca}",
            "- name: reader_password", "  type: password"] + variables
        manifest = lines.joined(separator: "\n") + "\n"

        var ops: [String] = []
        for o in 0..<20 {
            let g = o * 3 % groups
            ops.append("""
                - type: replace
                  path: /instance_groups/name=group-\(g)/instances
                  value: ((scaled_\(o)))
                - type: replace
                  path: /instance_groups/name=group-\(g)/jobs/-
                  value:
                    name: addon-\(o)
                    release: release-\(o % 12)
                    properties: {addon: {level: \(o), secret: ((addon_\(o)_secret))}}
                - type: replace
                  path: /instance_groups/name=group-\(g + 1)/jobs/name=job-1:before
                  value: {name: inserted-\(o), release: release-0}
                - type: remove
                  path: /instance_groups/name=group-\(g + 2)/vm_extensions/0
                - type: replace
                  path: /instance_groups/name=group-\(g)/env?/bosh/job_dir/tmpfs
                  value: true
                - type: replace
                  path: /variables/-
                  value: {name: addon_\(o)_secret, type: password}
                - type: replace
                  path: /tags?/ops-\(o)
                  value: applied
                """)
        }
        opsFiles = ops

        var varLines = ["system_domain: sys.example.com", "reader_password: reader-secret"]
        for p in 0..<10 { varLines.append("port_\(p): \(8000 + p)") }
        for g in 0..<groups {
            varLines += ["group_\(g)_instances: \(g % 5 + 1)", "group_\(g)_password: pw-\(g)",
                "group_\(g)_tls:", "  ca: |", "    -----BEGIN CERTIFICATE-----", "    MIIB\(g)", "    -----END CERTIFICATE-----",
                "  certificate: |", "    -----BEGIN CERTIFICATE-----", "    MIIC\(g)", "    -----END CERTIFICATE-----",
                "  private_key: |", "    -----BEGIN RSA PRIVATE KEY-----", "    MIIE\(g)", "    -----END RSA PRIVATE KEY-----"]
        }
        for o in 0..<20 { varLines += ["scaled_\(o): \(o + 2)", "addon_\(o)_secret: s-\(o)"] }
        varLines += ["default_ca: {ca: x, certificate: y, private_key: z}"]
        vars = varLines.joined(separator: "\n") + "\n"
        variableCount = varLines.filter { !$0.hasPrefix(" ") }.count
    }
}
