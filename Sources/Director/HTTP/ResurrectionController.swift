import BosunCore
import Foundation
import Hummingbird

/// `PUT /resurrection` with `{"resurrection_paused": true|false}` (`bosh update-resurrection
/// off|on`): pauses or resumes the resurrector for every deployment, across restarts.
struct ResurrectionController {
    let resurrection: ResurrectionSwitch

    func addRoutes(to router: Router<DirectorRequestContext>) {
        let resurrection = self.resurrection
        router.put("resurrection") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 16)
            guard case .bool(let paused)? = (try? JSONCoding.decoder.decode(JSONValue.self, from: Data(buffer: body)))?["resurrection_paused"] else {
                throw DirectorError(.badRequest, code: 40_000, #"Expected {"resurrection_paused": true|false}"#)
            }
            try resurrection.set(paused: paused)
            return .json([:])
        }
    }
}
