// swift-tools-version:6.0
import PackageDescription

// The module, pam_lockstep.so, is not built here: the Makefile builds it in Embedded Swift from
// LockstepCore, LockstepPlatform, LockstepNettle and PamLockstep (see ARCHITECTURE.md). This
// package builds those same targets as ordinary Swift for the CLI and the tests.
let package = Package(
  name: "Lockstep",
  products: [
    .executable(name: "lockstep", targets: ["lockstep"]),
    .executable(name: "lockstepd", targets: ["lockstepd"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    // lockstepd only: the fleet store on PostgreSQL, over TLS.
    .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    // lockstepd's /metrics and the CLI's textfile: the families and their text format.
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
  ],
  targets: [
    // The C library's headers, as both builds see them.
    .systemLibrary(name: "CLockstepSystem"),
    .systemLibrary(name: "CNettle", pkgConfig: "nettle", providers: [.apt(["nettle-dev"])]),
    .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
    .systemLibrary(name: "CQRencode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),
    .systemLibrary(name: "CTimex"),
    // lockstepd only: SMTP and the SMS providers' HTTPS APIs.
    .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
    // What a login runs.
    .target(name: "LockstepCore", dependencies: ["CLockstepSystem"]),
    .target(name: "LockstepPlatform", dependencies: ["LockstepCore", "CLockstepSystem"]),
    .target(name: "LockstepNettle", dependencies: ["LockstepCore", "LockstepPlatform", "CNettle"]),
    // What only administration needs.
    .target(name: "LockstepAdmin", dependencies: ["LockstepCore"]),
    .target(name: "LockstepLibCrypto", dependencies: ["LockstepCore", "COpenSSL"]),
    // lockstepd.conf, which the agent runs by and the CLI finds the agent (or its store) in.
    .target(name: "LockstepConfiguration", dependencies: ["LockstepCore", "LockstepPlatform"]),
    // lockstepd only: codes sent by email (sendmail or SMTP) and SMS (Twilio, Vonage, a webhook).
    .target(
      name: "LockstepDelivery",
      dependencies: ["LockstepCore", "LockstepPlatform", "LockstepConfiguration", "CCurl"]
    ),
    // The metrics of the events lockstepd and the module log, in Prometheus' text format.
    .target(
      name: "LockstepMetrics",
      dependencies: ["LockstepCore", .product(name: "Prometheus", package: "swift-prometheus")]
    ),
    .executableTarget(
      name: "lockstep",
      dependencies: [
        "LockstepCore", "LockstepPlatform", "LockstepAdmin", "LockstepLibCrypto", "LockstepConfiguration",
        "LockstepMetrics", "CQRencode", "CTimex",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    // The agent: the module's and the CLI's store for a fleet (PostgreSQL) or one host.
    .executableTarget(
      name: "lockstepd",
      dependencies: [
        "LockstepCore", "LockstepPlatform", "LockstepNettle", "LockstepConfiguration", "LockstepDelivery",
        "LockstepMetrics",
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "PostgresNIO", package: "postgres-nio"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: [.swiftLanguageMode(.v5)]
    ),
    .testTarget(
      name: "LockstepCoreTests",
      dependencies: ["LockstepCore", "LockstepPlatform", "LockstepAdmin", "LockstepLibCrypto", "LockstepNettle"]
    ),
    .testTarget(
      name: "PamModuleTests",
      dependencies: [
        "LockstepCore", "LockstepPlatform", "LockstepLibCrypto", "LockstepConfiguration", "LockstepDelivery",
        "LockstepMetrics",
      ],
      exclude: ["Driver", "NSS", "PowerCut", "StandIns"]
    ),
    .testTarget(
      name: "LockstepCLITests",
      dependencies: ["lockstep"]
    ),
  ]
)
