import Testing

@testable import BosunCore

@Suite struct SkipDrainTests {
    @Test(
        arguments: [
            (nil, SkipDrain.none), ("", .none), ("false", .none), ("*", .all), ("true", .all),
            ("web", .groups(["web"])), ("web,db", .groups(["web", "db"])), ("web, db,", .groups(["web", "db"])),
            ("web,*", .all),
        ] as [(String?, SkipDrain)])
    func readsTheQueryBoshSends(value: String?, expected: SkipDrain) {
        #expect(SkipDrain(query: value) == expected)
    }

    @Test func coversOnlyTheNamedGroups() {
        let some = SkipDrain(query: "web,db")
        #expect(some.covers("web") && some.covers("db") && !some.covers("worker"))
        #expect(SkipDrain.all.covers("anything") && !SkipDrain.none.covers("web"))
        #expect(some.queryValue == "db,web" && SkipDrain.all.queryValue == "*" && SkipDrain.none.queryValue == nil)
    }
}
