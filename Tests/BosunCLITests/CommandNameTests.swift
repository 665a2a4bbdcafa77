import ArgumentParser
import Testing

@testable import BosunCLI

/// Every command answers to exactly the names the official `bosh` CLI v7.10.6 gives it
/// (`cmd/opts/opts.go`: the command and its `alias` tags), so muscle memory and scripts do what
/// they do against BOSH — `ds` lists deployments, it never deletes a stemcell.
@Suite struct CommandNameTests {
    /// bosh's names for the commands Bosun has (the command first, then its aliases).
    static let bosh: [[String]] = [
        ["environment", "env"], ["alias-env"], ["log-in", "l", "login"], ["log-out", "logout"], ["task", "t"],
        ["tasks", "ts"],
        ["cancel-task", "ct"], ["locks"], ["clean-up"], ["config", "c"], ["configs", "cs"], ["update-config", "uc"],
        ["delete-config", "dc"], ["cloud-config", "cc"], ["update-cloud-config", "ucc"], ["runtime-config", "rc"],
        ["update-runtime-config", "urc"], ["deployments", "ds", "deps"], ["delete-deployment", "deld"],
        ["deploy", "d"],
        ["manifest", "man"], ["interpolate", "int"], ["events"], ["stemcells", "ss"], ["upload-stemcell", "us"],
        ["delete-stemcell", "dels"], ["releases", "rs"], ["upload-release", "ur"], ["export-release"],
        ["inspect-release"],
        ["delete-release", "delr"], ["run-errand"], ["disks"], ["attach-disk"], ["delete-disk"], ["orphan-disk"],
        ["instances", "is"], ["vms"], ["update-resurrection"], ["cloud-check", "cck", "cloudcheck"], ["orphaned-vms"],
        ["logs"],
        ["start"], ["stop"], ["restart"], ["recreate"], ["create-release", "cr"], ["variables", "vars"],
    ]

    static var ours: [[String]] {
        BosunCommand.configuration.subcommands.map { [$0.configuration.commandName ?? ""] + $0.configuration.aliases }
    }

    @Test func everyCommandBoshHasAnswersToBoshsNames() {
        let byName = Dictionary(Self.ours.map { ($0[0], Set($0)) }, uniquingKeysWith: { first, _ in first })
        for names in Self.bosh {
            let ours = Self.ours.first { !Set($0).isDisjoint(with: names) }.map(Set.init)
            #expect(ours == Set(names), "bosh \(names[0]): bosun answers to \(ours.map { $0.sorted() } ?? [])")
        }
        #expect(byName["deployments"]?.contains("ds") == true && byName["delete-stemcell"]?.contains("ds") == false)
    }

    @Test func noNameMeansTwoCommands() {
        let all = Self.ours.flatMap { $0 }
        #expect(
            all.count == Set(all).count,
            "\(Dictionary(grouping: all, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted())")
    }
}
