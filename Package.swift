// swift-tools-version:6.0
import Foundation
import PackageDescription

/// The package root, so that linker flags can name files in it by absolute path.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path

let package = Package(
  name: "Lockstep",
  products: [
    .library(name: "pam_lockstep", type: .dynamic, targets: ["PamLockstep"]),
    .executable(name: "lockstep", targets: ["lockstep"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
  ],
  targets: [
    .target(
      name: "CPAM",
      // DWARF 4: valgrind 3.19 (Debian 12) cannot read the module's DWARF 5 debug information.
      cSettings: [.unsafeFlags(["-gdwarf-4"])],
      linkerSettings: [.linkedLibrary("pam")]
    ),
    .systemLibrary(
      name: "COpenSSL",
      pkgConfig: "libcrypto",
      providers: [.apt(["libssl-dev"])]
    ),
    .target(name: "LockstepCore"),
    .target(
      name: "LockstepPlatform",
      dependencies: ["LockstepCore", "COpenSSL"]
    ),
    .target(
      name: "PamLockstep",
      dependencies: ["LockstepCore", "LockstepPlatform", "CPAM"],
      exclude: ["exports.map"],
      linkerSettings: [
        .unsafeFlags([
          "-static-stdlib", "-use-ld=lld",
          "-Xlinker", "-z", "-Xlinker", "nodelete",
          "-Xlinker", "--version-script=\(root)/Sources/PamLockstep/exports.map",
          // The host's environment is hidden from the image: see Sources/CPAM/hidden_environment.c.
          "-Xlinker", "--wrap=getenv", "-Xlinker", "--wrap=secure_getenv",
          "-Xlinker", "--wrap=environ", "-Xlinker", "--wrap=__environ",
        ])
      ]
    ),
    .systemLibrary(
      name: "CQRencode",
      pkgConfig: "libqrencode",
      providers: [.apt(["libqrencode-dev"])]
    ),
    .systemLibrary(name: "CTimex"),
    .executableTarget(
      name: "lockstep",
      dependencies: [
        "LockstepCore", "LockstepPlatform", "CQRencode", "CTimex",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .testTarget(
      name: "LockstepCoreTests",
      dependencies: ["LockstepCore", "LockstepPlatform"]
    ),
    .testTarget(
      name: "PamModuleTests",
      dependencies: ["LockstepCore", "LockstepPlatform"],
      exclude: ["Driver", "NSS", "PowerCut"]
    ),
    .testTarget(
      name: "LockstepCLITests",
      dependencies: ["lockstep"]
    ),
  ]
)
