/// The version every Bosun binary reports.
public enum BosunVersion {
    public static let current = "0.1.0-dev"
}
