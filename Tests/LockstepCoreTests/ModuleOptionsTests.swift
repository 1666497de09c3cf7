import LockstepCore
import Testing

@Suite("ModuleOptions")
struct ModuleOptionsTests {
  @Test("no arguments give the documented defaults")
  func defaults() {
    for options in [ModuleOptions(), ModuleOptions(arguments: [])] {
      #expect(options.store == "/var/lib/lockstep")
      #expect(!options.nullok)
      #expect(options.window == 1)
      #expect(options.lookahead == 10)
      #expect(options.maxFailures == 5)
      #expect(options.lockoutSeconds == 900)
      #expect(options.prompt == nil)
      #expect(options.effectivePrompt == "Verification code: ")
      #expect(!options.echo)
      #expect(options.firstPass == .none)
      #expect(!options.forwardPass)
      #expect(!options.debug)
      #expect(options.failDelayMilliseconds == 500)
      #expect(options.lockTimeoutSeconds == 5)
      #expect(!options.lockoutMessage)
      #expect(options.problems.isEmpty)
    }
  }

  /// Every numeric argument as pam_lockstep(8) documents it: name, field, default, range.
  static var documented: [(String, WritableKeyPath<ModuleOptions, Int>, Int, ClosedRange<Int>)] {
    [
      ("window", \.window, 1, 0...10), ("lookahead", \.lookahead, 10, 0...100),
      ("max_failures", \.maxFailures, 5, 1...1000), ("lockout", \.lockoutSeconds, 900, 0...31_536_000),
      ("fail_delay", \.failDelayMilliseconds, 500, 0...10_000), ("lock_timeout", \.lockTimeoutSeconds, 5, 1...600),
      ("agent_timeout", \.agentTimeoutSeconds, 5, 1...60), ("send_timeout", \.sendTimeoutSeconds, 10, 1...60),
    ]
  }

  @Test("every numeric setting has its documented default and range, and each bound is enforced")
  func everyNumericSetting() {
    // A setting added without a line above fails here.
    #expect(ModuleSetting.all.map(\.name) == Self.documented.map(\.0))
    for (setting, (name, field, defaultValue, range)) in zip(ModuleSetting.all, Self.documented) {
      #expect(setting.defaultValue == defaultValue && setting.range == range, "\(name)")
      #expect(ModuleOptions()[keyPath: field] == defaultValue, "\(name)")
      for value in [range.lowerBound, range.upperBound] {
        let options = ModuleOptions(arguments: ["\(name)=\(value)"])
        #expect(options.problems.isEmpty && options[keyPath: field] == value, "\(name)=\(value)")
      }
      for value in [range.lowerBound - 1, range.upperBound + 1] {
        let options = ModuleOptions(arguments: ["\(name)=\(value)"])
        #expect(
          options.problems == [
            "'\(name)=\(value)' needs a whole number from \(range.lowerBound) to \(range.upperBound)"
          ])
        #expect(options[keyPath: field] == defaultValue, "\(name)=\(value)")
      }
    }
    // The verifier's defaults, which `lockstep verify` and enroll's confirmation use, are the
    // module's.
    #expect(VerificationPolicy() == VerificationPolicy(window: 1, lookahead: 10, maxFailures: 5, lockoutSeconds: 900))
  }

  @Test("every known argument sets its option")
  func knownArguments() {
    let options = ModuleOptions(arguments: [
      "store=/srv/otp", "nullok", "window=3", "lookahead=20", "max_failures=7", "lockout=60", "prompt=OTP: ",
      "echo", "try_first_pass", "debug",
    ])
    #expect(options.problems == [])
    #expect(options.store == "/srv/otp")
    #expect(options.nullok)
    #expect(options.window == 3)
    #expect(options.lookahead == 20)
    #expect(options.maxFailures == 7)
    #expect(options.lockoutSeconds == 60)
    #expect(options.prompt == "OTP: ")
    #expect(options.effectivePrompt == "OTP: ")
    #expect(options.echo)
    #expect(options.firstPass == .tryFirstPass)
    #expect(!options.forwardPass)
    #expect(options.debug)
  }

  @Test("host_key names the host key's file, absolute")
  func hostKey() {
    #expect(ModuleOptions().hostKey == "/etc/lockstep/host.key")
    let options = ModuleOptions(arguments: ["host_key=/etc/lockstep/web1.key"])
    #expect(options.problems == [] && options.hostKey == "/etc/lockstep/web1.key")
    #expect(
      ModuleOptions(arguments: ["host_key=host.key"]).problems == [
        "'host_key=' needs an absolute file path without control characters"
      ])
  }

  @Test("agent names the agent's socket, and excludes store")
  func agentSocket() {
    let options = ModuleOptions(arguments: ["agent=/run/lockstep/agent.sock", "agent_timeout=3"])
    #expect(options.problems == [])
    #expect(options.agent == "/run/lockstep/agent.sock")
    #expect(options.agentTimeoutSeconds == 3)
    #expect(ModuleOptions().agent == nil, "the local store is the default")
    #expect(
      ModuleOptions(arguments: ["agent=/run/a.sock", "store=/srv/otp"]).problems == [
        "'agent=' and 'store=' exclude each other: the agent names its own store"
      ])
    #expect(
      ModuleOptions(arguments: ["agent=run/a.sock"]).problems == [
        "'agent=' needs an absolute socket path without control characters"
      ])
  }

  @Test("use_first_pass and forward_pass")
  func firstPassModes() {
    let use = ModuleOptions(arguments: ["use_first_pass"])
    #expect(use.firstPass == .useFirstPass)
    #expect(use.problems.isEmpty)
    let forward = ModuleOptions(arguments: ["forward_pass"])
    #expect(forward.forwardPass)
    #expect(forward.problems.isEmpty)
    #expect(forward.effectivePrompt == "Password & verification code: ")
    let forwardWithPrompt = ModuleOptions(arguments: ["forward_pass", "prompt=Both: "])
    #expect(forwardWithPrompt.effectivePrompt == "Both: ")
    let twice = ModuleOptions(arguments: ["try_first_pass", "try_first_pass"])
    #expect(twice.firstPass == .tryFirstPass)
    #expect(twice.problems.isEmpty)
  }

  @Test(
    "range limits are inclusive",
    arguments: [
      ("window=0", 0), ("window=10", 10), ("lookahead=0", 0), ("lookahead=100", 100), ("max_failures=1", 1),
      ("max_failures=1000", 1000), ("lockout=0", 0), ("lockout=31536000", 31_536_000),
    ])
  func rangeLimits(argument: String, expected: Int) {
    let options = ModuleOptions(arguments: [argument])
    #expect(options.problems.isEmpty)
    let value: Int
    switch argument.prefix(while: { $0 != "=" }) {
    case "window": value = options.window
    case "lookahead": value = options.lookahead
    case "max_failures": value = options.maxFailures
    default: value = options.lockoutSeconds
    }
    #expect(value == expected)
  }

  @Test("a prompt keeps spaces and equals signs after the first")
  func promptWithEquals() {
    let options = ModuleOptions(arguments: ["prompt=Code = ?"])
    #expect(options.prompt == "Code = ?")
    #expect(options.effectivePrompt == "Code = ?")
    #expect(options.problems.isEmpty)
    #expect(ModuleOptions(arguments: ["prompt=a=b=c"]).prompt == "a=b=c")
  }

  @Test(
    "unknown arguments are reported",
    arguments: ["nulok", "window", "nullok=1", "debug=yes", "Window=2", "", "=", "prompt", "store", "--debug"])
  func unknownArgument(argument: String) {
    let options = ModuleOptions(arguments: [argument])
    #expect(options.problems.count == 1)
  }

  @Test("the problem for an unknown argument names it")
  func unknownArgumentNamed() {
    let options = ModuleOptions(arguments: ["nulok"])
    #expect(options.problems.count == 1)
    #expect(options.problems.first?.contains("nulok") == true)
    #expect(!options.nullok)
  }

  @Test(
    "bad numbers are reported and leave the default",
    arguments: [
      "window=-1", "window=11", "window=abc", "window=", "window= 1", "window=1 ", "window=+1", "window=1.5",
      "window=0x1", "window=99999999999999999999", "lookahead=101", "lookahead=-1", "max_failures=0",
      "max_failures=1001", "lockout=99999999999", "lockout=-1", "lockout=31536001", "lockout=15m",
    ])
  func badNumbers(argument: String) {
    let options = ModuleOptions(arguments: [argument])
    #expect(options.problems.count == 1)
    let defaults = ModuleOptions()
    #expect(options.window == defaults.window)
    #expect(options.lookahead == defaults.lookahead)
    #expect(options.maxFailures == defaults.maxFailures)
    #expect(options.lockoutSeconds == defaults.lockoutSeconds)
  }

  @Test(
    "store must be an absolute path", arguments: ["store=var/lib/lockstep", "store=", "store=./otp", "store=~/otp"])
  func relativeStore(argument: String) {
    let options = ModuleOptions(arguments: [argument])
    #expect(options.problems.count == 1)
    #expect(options.store == "/var/lib/lockstep")
  }

  @Test("try_first_pass and use_first_pass exclude each other, in either order")
  func firstPassConflict() {
    #expect(ModuleOptions(arguments: ["try_first_pass", "use_first_pass"]).problems.count == 1)
    #expect(ModuleOptions(arguments: ["use_first_pass", "try_first_pass"]).problems.count == 1)
  }

  @Test(
    "forward_pass excludes try_first_pass and use_first_pass",
    arguments: [
      ["forward_pass", "try_first_pass"], ["try_first_pass", "forward_pass"], ["forward_pass", "use_first_pass"],
    ])
  func forwardPassConflict(arguments: [String]) {
    #expect(ModuleOptions(arguments: arguments).problems.count == 1)
  }

  @Test("every bad argument is reported, not only the first")
  func allProblemsReported() {
    let options = ModuleOptions(arguments: ["window=x", "bogus", "store=rel", "max_failures=0", "nullok"])
    #expect(options.problems.count == 4)
    #expect(options.nullok)
  }

  @Test("problems escape control characters in arguments")
  func problemsEscaped() {
    let options = ModuleOptions(arguments: ["bad\narg\u{1b}[31m", "window=\n"])
    #expect(options.problems.count == 2)
    for problem in options.problems {
      #expect(!problem.utf8.contains { $0 < 0x20 || $0 == 0x7f }, "\(problem.debugDescription)")
    }
  }

  @Test("send_at_once needs an agent, and the prompt names the channel unless prompt= is given")
  func sending() {
    #expect(
      ModuleOptions(arguments: ["send_at_once"]).problems == [
        "'send_at_once' needs 'agent=': lockstepd sends the codes"
      ])
    let options = ModuleOptions(arguments: ["agent=/run/a.sock", "send_at_once"])
    #expect(options.problems.isEmpty && options.sendAtOnce)
    let offer = DeliveryOffer(channel: .sms, hint: "••0123")
    #expect(options.prompt(offering: offer) == "Verification code (press Enter to have one sent by SMS to ••0123): ")
    #expect(options.prompt(offering: nil) == "Verification code: ")
    #expect(ModuleOptions(arguments: ["agent=/run/a.sock", "prompt=Code: "]).prompt(offering: offer) == "Code: ")
  }

  @Test("invitations works on a local store and through the agent, with a prompt of the module's own")
  func invitations() {
    #expect(ModuleOptions(arguments: ["invitations"]).invitations)
    #expect(ModuleOptions(arguments: ["invitations", "nullok"]).problems.isEmpty)
    #expect(ModuleOptions(arguments: ["invitations", "agent=/run/a.sock"]).problems.isEmpty)
    let refusal = "'invitations' needs a prompt of its own: not 'forward_pass', 'try_first_pass' or 'use_first_pass'"
    for other in ["forward_pass", "try_first_pass", "use_first_pass"] {
      #expect(ModuleOptions(arguments: ["invitations", other]).problems == [refusal], "\(other)")
    }
  }

  @Test("the summary states the options and nothing else")
  func summary() {
    let options = ModuleOptions(arguments: [
      "store=/srv/otp", "window=2", "prompt=Code = ?", "secret=hunter2", "try_first_pass", "debug",
    ])
    let summary = options.summary
    #expect(
      summary
        == "store=/srv/otp agent=- host_key=/etc/lockstep/host.key nullok=false window=2 lookahead=10 max_failures=5 lockout=900 echo=false "
        + "first_pass=try_first_pass forward_pass=false fail_delay=500 lock_timeout=5 agent_timeout=5 "
        + "lockout_message=false send_timeout=10 send_at_once=false invitations=false "
        + "prompt=\"Code = ?\"")
    #expect(!summary.contains("hunter2"))
  }

  @Test("the summary escapes control characters in the prompt")
  func summaryEscapesPrompt() {
    let summary = ModuleOptions(arguments: ["prompt=Code\n\u{1b}[2J:"]).summary
    #expect(summary.hasSuffix("prompt=\"Code\\x0a\\x1b[2J:\""))
    #expect(!summary.utf8.contains { $0 < 0x20 || $0 == 0x7f })
  }

  @Test("the summary is one printable line whatever the store path holds")
  func summaryEscapesStore() {
    let options = ModuleOptions(arguments: ["store=/srv/otp\nforged log line\u{1b}[2J"])
    let summary = options.summary
    #expect(!summary.utf8.contains { $0 < 0x20 || $0 == 0x7f }, "\(summary.debugDescription)")
  }

  @Test("the verification policy takes its limits from the options")
  func policyFromOptions() {
    let options = ModuleOptions(arguments: ["window=4", "lookahead=33", "max_failures=9", "lockout=120"])
    #expect(
      VerificationPolicy(options)
        == VerificationPolicy(window: 4, lookahead: 33, maxFailures: 9, lockoutSeconds: 120))
    #expect(VerificationPolicy(ModuleOptions()) == VerificationPolicy())
    #expect(VerificationPolicy() == VerificationPolicy(window: 1, lookahead: 10, maxFailures: 5, lockoutSeconds: 900))
  }
}
