extension YAMLValue {
    /// The YAML text `bosh int` would print for this value (go-yaml v2 `Marshal`).
    public func yamlText() -> String {
        GoYAMLEmitter.emit(self)
    }
}
