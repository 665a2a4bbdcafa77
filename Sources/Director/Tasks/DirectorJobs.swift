/// The task types the director runs, by name. Each issue's features add theirs here.
public enum DirectorJobs {
    public static var all: [String: any TaskJob] {
        [
            "update_stemcell": UpdateStemcellJob(), "delete_stemcell": DeleteStemcellJob(),
            "update_release": UpdateReleaseJob(), "export_release": ExportReleaseJob(),
            "delete_release": DeleteReleaseJob(), "update_deployment": UpdateDeploymentJob(),
            "delete_deployment": DeleteDeploymentJob(),
            "vms": VMsJob(), "change_state": ChangeStateJob(),
            "run_errand": RunErrandJob(), "clean_up": CleanupJob(),
            "scheduled_orphaned_vm_cleanup": OrphanedVMCleanupJob(),
            "scheduled_orphaned_disk_cleanup": OrphanedDiskCleanupJob(), "delete_orphan_disk": DeleteOrphanedDiskJob(),
            "orphan_disk": OrphanDiskJob(), "attach_disk": AttachDiskJob(),
            "restore_templates": RestoreTemplatesJob(), "scan_and_fix": ScanAndFixJob(),
            "cck_scan": CloudCheckScanJob(), "cck_apply_resolutions": ApplyResolutionsJob(),
            "fetch_logs": FetchLogsJob(),
        ]
    }
}
