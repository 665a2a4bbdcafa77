import AgentProtocol
import Blobstore

extension SignedBlobURLs {
    /// `method` as sent to an agent without blobstore credentials: each spec it carries gets a GET
    /// URL on every package and on the rendered templates archive; `sync_dns` becomes
    /// `sync_dns_with_signed_url`. (BOSH signs packages only, so its
    /// credential-less agents depend on NATS-delivered templates; Bosun signs both.)
    func signing(_ method: AgentMethod) -> AgentMethod {
        switch method {
        case .apply(let spec): return .apply(signing(spec))
        case .prepare(let spec): return .prepare(signing(spec))
        case .drain(let type, let spec?): return .drain(type, signing(spec))
        case .syncDNS(let id, let sha1, let version): return .syncDNSWithSignedURL(url: url(.get, id), digest: sha1, version: version)
        default: return method
        }
    }

    func signing(_ spec: ApplySpec) -> ApplySpec {
        var spec = spec
        spec.packages = signing(spec.packages)
        if let archive = spec.renderedTemplatesArchive, !archive.blobstoreID.isEmpty {
            spec.renderedTemplatesArchive?.signedURL = url(.get, archive.blobstoreID)
        }
        return spec
    }

    /// Packages (a spec's, or a compile's dependencies) with a GET URL on each stored one.
    func signing(_ packages: [String: BlobReference]) -> [String: BlobReference] {
        packages.mapValues { package in
            var package = package
            if !package.blobstoreID.isEmpty { package.signedURL = url(.get, package.blobstoreID) }
            return package
        }
    }
}
