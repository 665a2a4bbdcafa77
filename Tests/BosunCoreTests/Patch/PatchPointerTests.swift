import Testing

@testable import BosunCore

@Suite struct PatchPointerTests {
    @Test(arguments: [
        "", "/", "/a", "/a/0", "/a/-", "/a/-1", "/name=web/jobs", "/a?/b/c", "/x=y?/z", "/0:prev", "/3:next:next",
        "/name=web:after", "/0:before", "/a~1b/c~0d/e~2f/g~3h/i~7j",
    ])
    func roundTripsThroughItsDescription(path: String) throws {
        #expect(try PatchPointer(parsing: path).description == path)
    }

    @Test func parsesEveryTokenKind() throws {
        let pointer = try PatchPointer(parsing: "/releases/name=dummy?/jobs/0:next/-")
        #expect(
            pointer.tokens == [
                .root, .key("releases", optional: false),
                .matching(key: "name", value: "dummy", optional: true, modifiers: []),
                .key("jobs", optional: true), .index(0, modifiers: [.next]), .afterLast,
            ])
    }

    @Test func dashIsAKeyWhenNotLast() throws {
        #expect(try PatchPointer(parsing: "/-/a").tokens[1] == .key("-", optional: false))
    }

    @Test func escapesAreDecoded() throws {
        #expect(try PatchPointer(parsing: "/a~1b~7c~2~3~0").tokens[1] == .key("a/b:c?=~", optional: false))
        #expect(
            try PatchPointer(parsing: "/k~3=v~1w").tokens[1]
                == .matching(key: "k=", value: "v/w", optional: false, modifiers: []))
    }

    @Test(arguments: [
        ("a", "Expected to start with '/'"),
        ("/a:prev", "Expected not to find any modifiers with key token"),
        ("/0:sideways", "Expected to find one of the following modifiers: 'prev', 'next', 'before', or 'after' but found 'sideways'"),
        ("/-:after", "Expected not to find any modifiers with after last index token"),
    ])
    func rejectsMalformedPaths(path: String, message: String) {
        #expect {
            _ = try PatchPointer(parsing: path)
        } throws: { error in
            (error as? PatchPointer.ParseError)?.description == message
        }
    }
}
