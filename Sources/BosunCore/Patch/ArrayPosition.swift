/// Turns an index token and its modifiers into a concrete array position, as go-patch does.
enum ArrayPosition {
    /// The position an `index` or `name=value` token selects in `items`; nil when an optional
    /// `name=value?` matches nothing. With `forWriting`, `:before`/`:after` give an insertion slot.
    static func select(_ token: PatchPointer.Token, in items: [YAMLValue], path: PatchPointer) throws(PatchError) -> Int? {
        try select(token, in: items, path: path, forWriting: false)?.position
    }

    static func select(_ token: PatchPointer.Token, in items: [YAMLValue], path: PatchPointer, forWriting: Bool)
        throws(PatchError) -> (position: Int, insert: Bool)?
    {
        let base: Int
        let modifiers: [PatchPointer.Modifier]
        switch token {
        case .index(let index, let mods):
            base = index
            modifiers = mods
        case .matching(let key, let value, let optional, let mods):
            let matches = items.indices.filter { items[$0][key] == .string(value) }
            if optional && matches.isEmpty { return nil }
            guard matches.count == 1 else { throw PatchError.notExactlyOneMatch(at: path, found: matches.count) }
            base = matches[0]
            modifiers = mods
        default:
            preconditionFailure("only index and matching tokens select array items")
        }
        if forWriting {
            return try insertion(base, modifiers: modifiers, count: items.count, path: path)
        }
        return (try index(base, modifiers: modifiers, count: items.count, path: path), false)
    }

    /// `:prev`/`:next` shift the index; negative indexes count from the end.
    static func index(_ index: Int, modifiers: [PatchPointer.Modifier], count: Int, path: PatchPointer)
        throws(PatchError) -> Int
    {
        var result = index
        for modifier in modifiers {
            switch modifier {
            case .prev: result -= 1
            case .next: result += 1
            case .before, .after:
                throw PatchError(
                    "Expected to find one of the following modifiers: 'prev', 'next', but found modifier '\(modifier.rawValue)'"
                )
            }
        }
        if result >= count || -result - 1 >= count {
            throw PatchError.missingIndex(result, length: count, at: path)
        }
        return result < 0 ? count + result : result
    }

    /// Where a replace at the last token writes: over the item, or (with `:before`/`:after`) a new
    /// slot next to it. Nothing may follow `:before` or `:after`.
    static func insertion(_ index: Int, modifiers: [PatchPointer.Modifier], count: Int, path: PatchPointer)
        throws(PatchError) -> (position: Int, insert: Bool)
    {
        var shifts: [PatchPointer.Modifier] = []
        var before = false
        var after = false
        for modifier in modifiers {
            if before || after {
                throw PatchError(
                    "Expected to not find any modifiers after '\(before ? "before" : "after")' modifier, but found modifier '\(modifier.rawValue)'"
                )
            }
            switch modifier {
            case .before: before = true
            case .after: after = true
            default: shifts.append(modifier)
            }
        }
        var position = try Self.index(index, modifiers: shifts, count: count, path: path)
        if after && position != count { position += 1 }
        return (position, before || after)
    }
}
