// swift-tools-version:6.0
import PackageDescription

// The module, pam_lockstep.so, is not built here: the Makefile builds it in Embedded Swift from
// LockstepCore, LockstepPlatform, LockstepNettle and PamLockstep (see ARCHITECTURE.md). This
// package builds those same targets as ordinary Swift for the CLI and the tests.
let package = Package(
  name: "Lockstep",
  products: [
    .executable(name: "lockstep", targets: ["lockstep"])
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
  ],
  targets: [
    // The C library's headers, as both builds see them.
    .systemLibrary(name: "CLockstepSystem"),
    .systemLibrary(name: "CNettle", pkgConfig: "nettle", providers: [.apt(["nettle-dev"])]),
    .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
    .systemLibrary(name: "CQRencode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),
    .systemLibrary(name: "CTimex"),
    // What a login runs.
    .target(name: "LockstepCore", dependencies: ["CLockstepSystem"]),
    .target(name: "LockstepPlatform", dependencies: ["LockstepCore", "CLockstepSystem"]),
    .target(name: "LockstepNettle", dependencies: ["LockstepCore", "LockstepPlatform", "CNettle"]),
    // What only administration needs.
    .target(name: "LockstepAdmin", dependencies: ["LockstepCore"]),
    .target(name: "LockstepLibCrypto", dependencies: ["LockstepCore", "COpenSSL"]),
    .executableTarget(
      name: "lockstep",
      dependencies: [
        "LockstepCore", "LockstepPlatform", "LockstepAdmin", "LockstepLibCrypto", "CQRencode", "CTimex",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .testTarget(
      name: "LockstepCoreTests",
      dependencies: ["LockstepCore", "LockstepPlatform", "LockstepAdmin", "LockstepLibCrypto", "LockstepNettle"]
    ),
    .testTarget(
      name: "PamModuleTests",
      dependencies: ["LockstepCore", "LockstepPlatform", "LockstepLibCrypto"],
      exclude: ["Driver", "NSS", "PowerCut"]
    ),
    .testTarget(
      name: "LockstepCLITests",
      dependencies: ["lockstep"]
    ),
  ]
)
