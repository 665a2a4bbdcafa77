/// What rendering adds to a plan, so that the plan a deploy prints is the one it carries out:
/// instances whose rendered jobs or packages differ from what they run get `configurationChanged`,
/// and instances left detached by `stop --hard` stay so (no reason, no VM) unless woken.
extension DeploymentPlan {
    /// - Parameters:
    ///   - running: instance id → the configuration hash it last applied (nil: none yet).
    ///   - rendered: instance id → the configuration hash just rendered.
    ///   - detached: ids of instances `stop --hard` left without a VM.
    ///   - wake: ids of detached instances to give a VM again (`start`, `recreate`).
    public func addingRenderedChanges(
        running: [String: String?], rendered: [String: String], detached: Set<String>, wake: Set<String>
    ) -> DeploymentPlan {
        var plan = self
        for group in plan.instanceGroups.indices {
            for index in plan.instanceGroups[group].instances.indices {
                var instance = plan.instanceGroups[group].instances[index]
                if detached.contains(instance.id) && !wake.contains(instance.id) {
                    instance.reasons = []
                } else if !instance.isChanged, let hash = rendered[instance.id], running[instance.id] ?? nil != hash {
                    instance.reasons = [.configurationChanged]
                }
                plan.instanceGroups[group].instances[index] = instance
            }
        }
        return plan
    }
}
