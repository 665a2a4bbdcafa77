import BosunCore
import Hummingbird

/// `GET /info`: anonymous, as the contract requires; `user` is the name the request's valid
/// credentials prove, else null (wrong credentials are not a 401 here).
struct InfoController {
    let configuration: DirectorConfiguration
    let identity: DirectorIdentity

    func addRoutes(to router: Router<DirectorRequestContext>) {
        let info = self
        router.get("info") { _, context in Response.json(info.body(user: context.user)) }
    }

    func body(user: String?) -> JSONValue {
        [
            "name": .string(configuration.name),
            "uuid": .string(identity.uuid),
            "version": .string("\(BosunVersion.current) (00000000)"),
            "user": user.map(JSONValue.string) ?? .null,
            "cpi": .string(configuration.cpiName),
            "user_authentication": ["type": "basic", "options": [:]],
            "features": [
                "local_dns": ["status": false, "extras": ["domain_name": "bosh"]],
                "power_dns": ["status": false, "extras": ["domain_name": "bosh"]],
                "compiled_package_cache": ["status": false, "extras": ["provider": .null]],
                "snapshots": ["status": false],
                "config_server": ["status": true, "extras": ["urls": []]],
            ],
        ]
    }
}
