/// go-patch's replace: walks the pointer, creating optional (`?`) maps, arrays and matching items on
/// the way, and writes the value at the last token.
struct PatchReplace {
    var pointer: PatchPointer
    var value: YAMLValue

    func apply(_ node: inout YAMLValue, tokenIndex i: Int) throws(PatchError) {
        let tokens = pointer.tokens
        if tokens.count == 1 {
            node = value
            return
        }
        let isLast = i == tokens.count - 1
        let here = pointer.prefix(i + 1)
        switch tokens[i] {
        case .root:
            return
        case .afterLast:
            guard case .array(var items) = node else {
                throw PatchError.typeMismatch(expected: "an array", at: here, found: node)
            }
            guard isLast else { throw PatchError("Expected after last index token to be last in path '\(pointer)'") }
            node = .null
            items.append(value)
            node = .array(items)
        case .index, .matching:
            guard case .array(var items) = node else {
                throw PatchError.typeMismatch(expected: "an array", at: here, found: node)
            }
            node = .null  // release the array so it is edited in place
            defer { node = .array(items) }
            guard let selected = try ArrayPosition.select(tokens[i], in: items, path: here, forWriting: isLast) else {
                // An optional `name=value?` that matched nothing: append a new item.
                guard case .matching(let key, let match, _, _) = tokens[i] else { return }
                if isLast {
                    items.append(value)
                } else {
                    items.append([.string(key): .string(match)])
                    try apply(&items[items.count - 1], tokenIndex: i + 1)
                }
                return
            }
            if !isLast {
                try apply(&items[selected.position], tokenIndex: i + 1)
            } else if selected.insert {
                items.insert(value, at: selected.position)
            } else {
                items[selected.position] = value
            }
        case .key(let key, let optional):
            guard case .map(var map) = node else {
                throw PatchError.typeMismatch(expected: "a map", at: here, found: node)
            }
            let mapKey = YAMLValue.string(key)
            let existing = map[mapKey]
            if existing == nil && !optional { throw PatchError.missingKey(key, at: here, in: map) }
            node = .null
            if isLast {
                map[mapKey] = value
            } else {
                var child: YAMLValue
                if let existing {
                    child = existing
                    map[mapKey] = .null
                } else {
                    switch tokens[i + 1] {
                    case .afterLast, .matching: child = .array([])
                    case .key: child = .map([:])
                    default:
                        throw PatchError(
                            "Expected to find key, matching index or after last index token at path '\(pointer.prefix(i + 2))'"
                        )
                    }
                }
                try apply(&child, tokenIndex: i + 1)
                map[mapKey] = child
            }
            node = .map(map)
        }
    }
}

/// go-patch's remove; `?` tokens make a missing target a no-op.
struct PatchRemove {
    var pointer: PatchPointer

    /// Returns false when an optional token found nothing, so nothing was removed.
    @discardableResult
    func apply(_ node: inout YAMLValue, tokenIndex i: Int) throws(PatchError) -> Bool {
        let tokens = pointer.tokens
        let isLast = i == tokens.count - 1
        let here = pointer.prefix(i + 1)
        switch tokens[i] {
        case .root:
            return false
        case .index, .matching:
            guard case .array(var items) = node else {
                throw PatchError.typeMismatch(expected: "an array", at: here, found: node)
            }
            guard let position = try ArrayPosition.select(tokens[i], in: items, path: here) else { return false }
            node = .null
            defer { node = .array(items) }
            if isLast {
                items.remove(at: position)
                return true
            }
            return try apply(&items[position], tokenIndex: i + 1)
        case .afterLast:
            throw PatchError("Expected to not find token 'patch.AfterLastIndexToken' at path '\(here)'")
        case .key(let key, let optional):
            guard case .map(var map) = node else {
                throw PatchError.typeMismatch(expected: "a map", at: here, found: node)
            }
            let mapKey = YAMLValue.string(key)
            guard var child = map[mapKey] else {
                if optional { return false }
                throw PatchError.missingKey(key, at: here, in: map)
            }
            node = .null
            defer { node = .map(map) }
            if isLast {
                map.removeValue(forKey: mapKey)
                return true
            }
            map[mapKey] = .null
            defer { map[mapKey] = child }
            return try apply(&child, tokenIndex: i + 1)
        }
    }
}
