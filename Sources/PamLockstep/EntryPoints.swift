internal import CPAM
import LockstepCore

// The only symbols the module exports (see exports.map). libpam calls them with the handle,
// the flags, and the arguments from the module's line in the service's configuration.

/// `pam_sm_authenticate(3)`: asks for and checks a one-time code.
@_cdecl("pam_sm_authenticate")
public func lockstepAuthenticate(
  _ handle: OpaquePointer?, _ flags: Int32, _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> Int32 {
  guard let handle else { return PAM_SYSTEM_ERR }
  let session = PAMSession(handle: handle)
  let options = ModuleOptions(arguments: arguments(argc, argv))
  return Authentication(session: session, options: options).run().value
}

/// `pam_sm_setcred(3)`: the module sets no credentials, so this always succeeds.
@_cdecl("pam_sm_setcred")
public func lockstepSetCredentials(
  _ handle: OpaquePointer?, _ flags: Int32, _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> Int32 {
  PAM_SUCCESS
}

/// The module arguments as strings; NULL entries (which libpam never passes) are skipped.
private func arguments(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> [String] {
  guard let argv, argc > 0 else { return [] }
  return (0..<Int(argc)).compactMap { index in argv[index].map { String(cString: $0) } }
}
