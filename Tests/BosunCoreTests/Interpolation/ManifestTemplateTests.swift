import Testing

@testable import BosunCore

/// The interpolation rules of bosh.io's "variable interpolation" page and bosh-cli's template.
@Suite struct ManifestTemplateTests {
    func evaluate(
        _ manifest: String, vars: [String: YAMLValue] = [:], ops: [String] = [],
        options: ManifestTemplate.Options = .init(), sources: [any VariableSource] = []
    ) throws -> YAMLValue {
        let opsFiles = try ops.enumerated().map { try OpsFile(parsing: $1, source: "ops\($0).yml") }
        let variables = LayeredVariables([StaticVariables(vars)] + sources)
        return try ManifestTemplate(parsing: manifest).evaluate(variables: variables, opsFiles: opsFiles, options: options)
    }

    @Test func wholeValueKeepsItsType() throws {
        let out = try evaluate("a: ((n))\nb: ((m))\nc: ((l))", vars: ["n": 3, "m": ["k": "v"], "l": [1, true]])
        #expect(out == ["a": 3, "b": ["k": "v"], "c": [1, true]])
    }

    @Test func insideAStringOnlyStringsAndIntegersFit() throws {
        #expect(try evaluate("url: https://((host)):((port))/", vars: ["host": "h", "port": 8443])["url"] == "https://h:8443/")
        #expect {
            _ = try evaluate("a: x-((secret))", vars: ["secret": ["nested": "p4ssw0rd"]])
        } throws: { error in
            let text = "\(error)"
            return text.contains("Invalid type 'map[interface {}]interface {}' for variable 'secret'")
                && !text.contains("p4ssw0rd")
        }
        #expect(throws: ManifestTemplate.EvaluationError.self) { _ = try evaluate("a: x-((b))", vars: ["b": true]) }
    }

    @Test func bangFormIsTheSameVariable() throws {
        #expect(try evaluate("a: ((!x))\nb: pre-((!x))-((x))", vars: ["x": "v"]) == ["a": "v", "b": "pre-v-v"])
    }

    @Test func dottedNamesReachInsideValues() throws {
        let cert: YAMLValue = ["ca": "CA", "certificate": "CERT", "list": ["zero"], "0": "key-zero"]
        let out = try evaluate("a: ((c.ca))\nb: ((c.list.0))\nc: ((c.0))", vars: ["c": cert])
        #expect(out == ["a": "CA", "b": "zero", "c": "key-zero"])
    }

    @Test func missingVariablesStayUnlessVarErrs() throws {
        #expect(try evaluate("a: ((missing))\nb: x((other))")["a"] == "((missing))")
        #expect {
            _ = try evaluate("a: ((zeta))\nb: ((alpha))", options: .init(expectAllVariablesFound: true))
        } throws: { error in
            "\(error)" == "Expected to find variables:\n    - alpha\n    - zeta"
        }
    }

    @Test func unusedVariablesAreReportedWithVarErrsUnused() throws {
        #expect {
            _ = try evaluate("a: ((used))", vars: ["used": 1, "spare": 2], options: .init(expectAllVariablesUsed: true))
        } throws: { error in
            "\(error)" == "Expected to use variables:\n    - spare"
        }
        _ = try evaluate("a: ((used))", vars: ["used": 1], options: .init(expectAllVariablesUsed: true))
    }

    @Test func mapKeysAreInterpolatedToo() throws {
        #expect(try evaluate("((k)): v", vars: ["k": "key"]) == ["key": "v"])
    }

    @Test func opsAreAppliedBeforeVariablesAndTheirValuesAreInterpolated() throws {
        let ops = """
            - type: replace
              path: /instances
              value: ((count))
            """
        #expect(try evaluate("instances: 1", vars: ["count": 5], ops: [ops])["instances"] == 5)
    }

    @Test func opsPathsAreNotInterpolated() throws {
        let ops = "- {type: replace, path: /groups/name=((g))/size, value: 2}"
        #expect {
            _ = try evaluate("groups: [{name: web, size: 1}]", vars: ["g": "web"], ops: [ops])
        } throws: { error in
            "\(error)".contains("for path '/groups/name=((g))' but found 0")
        }
    }

    @Test func resolvedDefinitionsLeaveTheVariablesSection() throws {
        let manifest = """
            a: ((known))
            variables:
            - name: known
              type: password
            - name: unknown
              type: password
            """
        let out = try evaluate(manifest, vars: ["known": "k"])
        #expect(out["variables"] == [["name": "unknown", "type": "password"]])
    }

    @Test func generatedValuesComeFromTheStoreInDefinitionOrder() throws {
        let manifest = """
            a: ((second))
            variables:
            - {name: first, type: counter}
            - {name: second, type: counter, options: {base: ((first))}}
            """
        let store = CountingSource()
        let out = try evaluate(manifest, sources: [store])
        #expect(out["a"] == "counter-2(base: counter-1)")
        #expect(store.generated == ["first", "second"])
        #expect(out["variables"] == [])
    }

    @Test func optionsMayUseOtherVariables() throws {
        let manifest = """
            a: ((cert))
            variables:
            - {name: cert, type: counter, options: {base: ((domain))}}
            """
        #expect(try evaluate(manifest, vars: ["domain": "example.com"], sources: [CountingSource()])["a"]
            == "counter-1(base: example.com)")
    }

    @Test func definitionCyclesAreDetected() throws {
        let manifest = """
            variables:
            - {name: a, type: counter, options: {base: ((b))}}
            - {name: b, type: counter, options: {base: ((a))}}
            """
        #expect {
            _ = try evaluate(manifest, sources: [CountingSource()])
        } throws: { error in
            "\(error)".contains("Detected recursion")
        }
    }

    @Test func pathExtractsAfterInterpolation() throws {
        let out = try evaluate("a: {b: ((x))}", vars: ["x": "v"], options: .init(path: try PatchPointer(parsing: "/a/b")))
        #expect(out == "v")
    }

    @Test func malformedVariablesSectionNamesTheEntry() throws {
        #expect {
            _ = try evaluate("variables: [{name: a, type: [x]}]")
        } throws: { error in
            "\(error)" == "variables[0].type: expected a string, found []interface {}"
        }
    }
}

/// A source that makes values for any typed definition, recording the order it was asked in.
final class CountingSource: VariableSource {
    private(set) var generated: [String] = []
    private var values: [String: YAMLValue] = [:]

    func value(for definition: VariableDefinition) throws -> YAMLValue? {
        if let value = values[definition.name] { return value }
        guard !definition.type.isEmpty else { return nil }
        generated.append(definition.name)
        var text = "\(definition.type)-\(generated.count)"
        if case .string(let base)? = definition.options["base"] { text += "(base: \(base))" }
        values[definition.name] = .string(text)
        return .string(text)
    }

    func names() -> [String] { Array(values.keys) }
}
