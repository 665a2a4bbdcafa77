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
        case .index(let index, let modifiers):
            guard case .array(var items) = node else {
                throw PatchError.typeMismatch(expected: "an array", at: here, found: node)
            }
            node = .null  // release the array so it is edited in place
            if isLast {
                let (position, insert) = try ArrayPosition.insertion(
                    index, modifiers: modifiers, count: items.count, path: here)
                if insert { items.insert(value, at: position) } else { items[position] = value }
            } else {
                let position = try ArrayPosition.index(index, modifiers: modifiers, count: items.count, path: here)
                try apply(&items[position], tokenIndex: i + 1)
            }
            node = .array(items)
        case .afterLast:
            guard case .array(var items) = node else {
                throw PatchError.typeMismatch(expected: "an array", at: here, found: node)
            }
            guard isLast else { throw PatchError("Expected after last index token to be last in path '\(pointer)'") }
            node = .null
            items.append(value)
            node = .array(items)
        case .matching(let key, let match, let optional, let modifiers):
            guard case .array(var items) = node else {
                throw PatchError.typeMismatch(expected: "an array", at: here, found: node)
            }
            let matches = items.indices.filter { items[$0][key] == .string(match) }
            node = .null
            if optional && matches.isEmpty {
                if isLast {
                    items.append(value)
                } else {
                    items.append([.string(key): .string(match)])
                    try apply(&items[items.count - 1], tokenIndex: i + 1)
                }
            } else {
                guard matches.count == 1 else { throw PatchError.notExactlyOneMatch(at: here, found: matches.count) }
                if isLast {
                    let (position, insert) = try ArrayPosition.insertion(
                        matches[0], modifiers: modifiers, count: items.count, path: here)
                    if insert { items.insert(value, at: position) } else { items[position] = value }
                } else {
                    let position = try ArrayPosition.index(
                        matches[0], modifiers: modifiers, count: items.count, path: here)
                    try apply(&items[position], tokenIndex: i + 1)
                }
            }
            node = .array(items)
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
        case .index(let index, let modifiers):
            guard case .array(var items) = node else {
                throw PatchError.typeMismatch(expected: "an array", at: here, found: node)
            }
            let position = try ArrayPosition.index(index, modifiers: modifiers, count: items.count, path: here)
            node = .null
            defer { node = .array(items) }
            if isLast {
                items.remove(at: position)
                return true
            }
            return try apply(&items[position], tokenIndex: i + 1)
        case .afterLast:
            throw PatchError("Expected to not find token 'patch.AfterLastIndexToken' at path '\(here)'")
        case .matching(let key, let match, let optional, let modifiers):
            guard case .array(var items) = node else {
                throw PatchError.typeMismatch(expected: "an array", at: here, found: node)
            }
            let matches = items.indices.filter { items[$0][key] == .string(match) }
            if optional && matches.isEmpty { return false }
            guard matches.count == 1 else { throw PatchError.notExactlyOneMatch(at: here, found: matches.count) }
            let position = try ArrayPosition.index(matches[0], modifiers: modifiers, count: items.count, path: here)
            node = .null
            defer { node = .array(items) }
            if isLast {
                items.remove(at: position)
                return true
            }
            return try apply(&items[position], tokenIndex: i + 1)
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
