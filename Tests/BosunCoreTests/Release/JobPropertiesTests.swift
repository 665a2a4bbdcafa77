import BosunCore
import Testing

struct JobPropertiesTests {
    @Test func onlyDeclaredPropertiesWithDefaultsFillingGaps() {
        let declared: [String: JSONValue] = [
            "port": ["default": 8080],
            "admin.user": ["default": "admin"],
            "admin.password": ["description": "no default"],
            "tls.enabled": ["default": false],
            "limits": ["default": ["max": 10]],
        ]
        let provided: JSONValue = [
            "port": 9090, "admin": ["password": "pw", "extra": "dropped"], "undeclared": "dropped", "tls": ["enabled": nil],
        ]
        let resolved = JobProperties.resolve(declared: declared, provided: provided)
        #expect(resolved == [
            "port": 9090, "admin": ["user": "admin", "password": "pw"], "tls": ["enabled": false], "limits": ["max": 10],
        ])
    }

    @Test func aPropertyWithNeitherValueNorDefaultIsNull() {
        let resolved = JobProperties.resolve(declared: ["a.b": [:]], provided: [:])
        #expect(resolved == ["a": ["b": nil]])
        #expect(JobProperties.lookup(["a", "b"], in: resolved) == nil)
    }
}
