import Foundation
import Testing

/// `lockstep invite`: users named and the members of a group, with what list and status then
/// say; the refusals of what cannot be an invitation.
@Suite("lockstep invite")
struct InviteTests {
  @Test("a group's members who are not enrolled are invited, once")
  func group() throws {
    // nogroup is the primary group of accounts such as nobody, which Debian always has.
    let members = Set(
      try String(contentsOfFile: "/etc/passwd", encoding: .utf8).split(separator: "\n").compactMap {
        line -> String? in
        let fields = line.split(separator: ":", omittingEmptySubsequences: false)
        return fields.count > 3 && fields[3] == "65534" ? String(fields[0]) : nil
      })
    try #require(members.contains("nobody"))
    let store = try TemporaryStore()
    try store.enroll("nobody", secret: "JBSWY3DPEHPK3PXP")
    let invited = try store.run(["invite", "--group", "nogroup", "--json"])
    #expect(invited.status == 0, "\(invited.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(invited.stdout.utf8)) as? [String: Any])
    let users = try #require(object["invited"] as? [[String: Any]]).compactMap { $0["user"] as? String }
    // Everyone whose primary group it is, but nobody, who was enrolled already.
    #expect(Set(users) == members.subtracting(["nobody"]))
    for user in users { #expect(try store.record(user).contains("\ninvited-until "), "\(user)") }
    let again = try store.run(["invite", "--group", "nogroup"])
    #expect(again.status == 0)
    #expect(again.stdout.contains("Nobody to invite"))
  }

  @Test("an invitation is refused for an enrolled user without --force, and for no user at all")
  func refusals() throws {
    let store = try TemporaryStore()
    try store.enroll("alice", secret: "JBSWY3DPEHPK3PXP")
    let enrolled = try store.run(["invite", "alice", "--allow-unknown-user"])
    #expect(enrolled.status == 6)
    #expect(
      enrolled.stderr.contains("alice is already enrolled; use --force to replace the enrollment (or the invitation)"))
    #expect(try store.run(["invite"]).status == 2)
    #expect(try store.run(["invite", "bob", "--allow-unknown-user", "--expires", "31d"]).status == 2)
    #expect(
      try store.run(["invite", "bob", "--group", "no-such-group-\(getpid())", "--allow-unknown-user"]).status == 2)
    let status = try store.run(["invite", "bob", "--allow-unknown-user", "--expires", "2h"])
    #expect(status.status == 0)
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data(try store.run(["status", "bob", "--json"]).stdout.utf8))
        as? [String: Any])
    let invitation = try #require(json["invitation"] as? [String: Any])
    #expect(invitation["open"] as? Bool == true)
  }
}
