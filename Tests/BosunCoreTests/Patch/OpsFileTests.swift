import Testing

@testable import BosunCore

/// Every rule of go-patch as the bosh.io "CLI v2 ops files" page and go-patch's docs describe it.
@Suite struct OpsFileTests {
    static let document = """
        key: 1
        key2:
          nested:
            super_nested: 2
          other: 3
        array: [4, 5, 6]
        items:
        - name: item7
        - name: item8
        - name: item8
        """

    @Test func replacesAMapKey() throws {
        let out = try patch(Self.document, "- {type: replace, path: /key, value: 10}")
        #expect(try yaml(out)["key"] == 10)
    }

    @Test func missingKeyWithoutQuestionMarkFailsNamingSiblings() throws {
        #expect {
            _ = try patch(Self.document, "- {type: replace, path: /key2/missing/x, value: 10}")
        } throws: { error in
            (error as? PatchError)?.description
                == "Error 'operation [0] in ops.yml failed': Expected to find a map key 'missing' for path '/key2/missing' (found map keys: 'nested', 'other')"
        }
    }

    @Test func optionalKeyIsCreated() throws {
        let out = try yaml(patch(Self.document, "- {type: replace, path: \"/new_key?\", value: 10}"))
        #expect(out["new_key"] == 10)
    }

    @Test func optionalityCarriesOverAndCreatesMaps() throws {
        let out = try yaml(patch(Self.document, "- {type: replace, path: \"/key2/nested?/another/deeper\", value: 10}"))
        #expect(out["key2"]?["nested"]?["another"]?["deeper"] == 10)
        #expect(out["key2"]?["nested"]?["super_nested"] == 2)
    }

    @Test func replacesAndAppendsArrayItems() throws {
        #expect(try yaml(patch(Self.document, "- {type: replace, path: /array/0, value: 10}"))["array"] == [10, 5, 6])
        #expect(
            try yaml(patch(Self.document, "- {type: replace, path: /array/-, value: 10}"))["array"] == [4, 5, 6, 10])
        #expect(try yaml(patch(Self.document, "- {type: replace, path: /array/-1, value: 10}"))["array"] == [4, 5, 10])
        #expect(try yaml(patch(Self.document, "- {type: replace, path: \"/array2?/-\", value: 10}"))["array2"] == [10])
    }

    @Test func prevNextBeforeAfterModifiers() throws {
        #expect(
            try yaml(patch(Self.document, "- {type: replace, path: '/array/1:prev', value: 10}"))["array"] == [
                10, 5, 6,
            ])
        #expect(
            try yaml(patch(Self.document, "- {type: replace, path: '/array/0:next', value: 10}"))["array"] == [
                4, 10, 6,
            ])
        #expect(
            try yaml(patch(Self.document, "- {type: replace, path: '/array/0:after', value: 10}"))["array"] == [
                4, 10, 5, 6,
            ])
        #expect(
            try yaml(patch(Self.document, "- {type: replace, path: '/array/0:before', value: 10}"))["array"] == [
                10, 4, 5, 6,
            ])
        #expect(
            try yaml(patch(Self.document, "- {type: replace, path: '/array/2:after', value: 10}"))["array"] == [
                4, 5, 6, 10,
            ])
        let items = try yaml(
            patch(Self.document, "- {type: replace, path: '/items/name=item7:after', value: {name: x}}"))["items"]
        #expect(items?.arrayValue?.map { $0["name"] } == ["item7", "x", "item8", "item8"])
    }

    @Test func aMissingLastKeyNeedsAQuestionMark() throws {
        #expect {
            _ = try patch(Self.document, "- {type: replace, path: /items/name=item7/count, value: 10}")
        } throws: { error in
            (error as? PatchError)?.description.hasSuffix(
                "Expected to find a map key 'count' for path '/items/name=item7/count' (found map keys: 'name')")
                == true
        }
    }

    @Test func creatingUnderANewKeyNeedsAKeyOrArrayToken() throws {
        #expect {
            _ = try patch("{xyz: 1}", "- {type: replace, path: \"/abc?/0\", value: 1}")
        } throws: { error in
            (error as? PatchError)?.description.hasSuffix(
                "Expected to find key, matching index or after last index token at path '/abc?/0'") == true
        }
    }

    @Test func matchingIndexSelectsOneItem() throws {
        let out = try yaml(patch(Self.document, "- {type: replace, path: \"/items/name=item7/count?\", value: 10}"))
        #expect(out["items"]?.arrayValue?[0] == ["name": "item7", "count": 10])
    }

    @Test func ambiguousMatchFails() throws {
        #expect {
            _ = try patch(Self.document, "- {type: replace, path: /items/name=item8/count, value: 10}")
        } throws: { error in
            (error as? PatchError)?.description.hasSuffix(
                "Expected to find exactly one matching array item for path '/items/name=item8' but found 2") == true
        }
    }

    @Test func optionalMatchAppendsAnItem() throws {
        let out = try yaml(patch(Self.document, "- {type: replace, path: \"/items/name=item9?/count\", value: 10}"))
        #expect(out["items"]?.arrayValue?.last == ["name": "item9", "count": 10])
    }

    @Test func matchingComparesStringsOnly() throws {
        #expect(throws: PatchError.self) {
            _ = try patch("list: [{id: 1}]", "- {type: replace, path: \"/list/id=1/x?\", value: 2}")
        }
        let out = try yaml(patch("list: [{id: '1'}]", "- {type: replace, path: \"/list/id=1/x?\", value: 2}"))
        #expect(out["list"]?.arrayValue?[0]["x"] == 2)
    }

    @Test func removesKeysItemsAndOptionalNothing() throws {
        #expect(try yaml(patch(Self.document, "- {type: remove, path: /key}"))["key"] == nil)
        #expect(try yaml(patch(Self.document, "- {type: remove, path: /array/1}"))["array"] == [4, 6])
        #expect(
            try yaml(patch(Self.document, "- {type: remove, path: /items/name=item7}"))["items"]?.arrayValue?.count == 2
        )
        #expect(
            try patch(Self.document, "- {type: remove, path: \"/nope?/x\"}") == (try yaml(Self.document).yamlText()))
        #expect(
            try patch(Self.document, "- {type: remove, path: \"/items/name=nope?\"}")
                == (try yaml(Self.document).yamlText()))
    }

    @Test func removingTheRootFails() throws {
        #expect(throws: PatchError.self) { _ = try patch(Self.document, "- {type: remove, path: ''}") }
    }

    @Test func typeMismatchNamesGoType() throws {
        #expect {
            _ = try patch(Self.document, "- {type: replace, path: /key/0, value: 1}")
        } throws: { error in
            (error as? PatchError)?.description.hasSuffix("Expected to find an array at path '/key/0' but found 'int'")
                == true
        }
    }

    @Test func indexOutOfRangeNamesLengthAndPath() throws {
        #expect {
            _ = try patch(Self.document, "- {type: replace, path: /array/7, value: 1}")
        } throws: { error in
            (error as? PatchError)?.description.hasSuffix(
                "Expected to find array index '7' but found array of length '3' for path '/array/7'") == true
        }
    }

    @Test func laterOperationsSeeEarlierOnes() throws {
        let ops = """
            - type: replace
              path: /a?
              value: {b: 1}
            - type: replace
              path: /a/c?
              value: 2
            """
        #expect(try yaml(patch("{}", ops)) == ["a": ["b": 1, "c": 2]])
    }

    @Test func secondOperationFailureNamesItsIndex() throws {
        let ops = """
            - {type: replace, path: /key, value: 2}
            - {type: replace, path: /bar/foo, value: 2}
            """
        #expect {
            _ = try patch("{a: 1, b: 2, key: 1}", ops)
        } throws: { error in
            (error as? PatchError)?.description
                == "Error 'operation [1] in ops.yml failed': Expected to find a map key 'bar' for path '/bar' (found map keys: 'a', 'b', 'key')"
        }
    }

    @Test func replacingTheRootReplacesEverything() throws {
        #expect(try patch(Self.document, "- {type: replace, path: '', value: {x: 1}}") == "x: 1\n")
    }

    @Test func copyTakesAValueFromElsewhere() throws {
        #expect(try yaml(patch(Self.document, "- {type: copy, from: /key2/other, path: \"/copied?\"}"))["copied"] == 3)
    }

    @Test(arguments: [
        ("- {type: replace, value: 1}", "Replace operation [0] in 'ops.yml': Missing path"),
        ("- {type: replace, path: /a}", "Replace operation [0] in 'ops.yml': Missing value (path '/a')"),
        ("- {type: remove, path: /a, value: 1}", "Remove operation [0] in 'ops.yml': Cannot specify value (path '/a')"),
        ("- {type: merge, path: /a}", "Unknown operation [0] with type 'merge' in 'ops.yml' (path '/a')"),
        (
            "- {type: replace, path: a, value: 1}",
            "Replace operation [0] in 'ops.yml': Invalid path 'a': Expected to start with '/'"
        ),
    ])
    func invalidOpsFilesAreRejectedUpFront(ops: String, message: String) {
        #expect {
            _ = try OpsFile(parsing: ops, source: "ops.yml")
        } throws: { error in
            (error as? OpsFile.InvalidError)?.description == message
        }
    }
}
