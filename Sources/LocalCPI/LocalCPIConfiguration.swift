import CPI

/// Defaults of the embedded local CPI: containers on one bridge, like bosh-lite's 10.244.0.0/16.
public struct LocalCPIConfiguration: Sendable, Equatable {
    /// Where VM bundles, disk images and stemcells live.
    public var stateDirectory: String
    /// The Linux bridge every VM's veth is attached to.
    public var bridgeName: String
    /// The CIDR the bridge serves.
    public var bridgeCIDR: String

    public init(stateDirectory: String, bridgeName: String = "bosun0", bridgeCIDR: String = "10.244.0.0/16") {
        self.stateDirectory = stateDirectory
        self.bridgeName = bridgeName
        self.bridgeCIDR = bridgeCIDR
    }
}
