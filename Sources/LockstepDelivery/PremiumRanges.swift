import LockstepCore

/// Number ranges that cost the sender (or the recipient's account) far more than a mobile
/// number, or that share the cost with the caller, and that no user's "mobile number" should
/// be in: a code sent there could run up a bill for whoever controls the range (SMS pumping,
/// "toll fraud"). They are refused whatever `sms-countries` says.
///
/// The table is modest on purpose: the premium-rate, shared-cost and personal-numbering
/// ranges of the national numbering plans that countries publish (Ofcom's National Telephone
/// Numbering Plan for the UK, the NANPA's N11/900 assignments, ComReg for Ireland, the
/// Bundesnetzagentur for Germany, ARCEP for France, and the others named below), as those
/// plans stood in 2025, plus the ITU's international premium-rate and shared-cost codes. It
/// is not a full list of every country's ranges, and numbering plans change: `sms-countries`
/// is the real control, naming only the countries a site's users are in.
enum PremiumRanges {
  struct Range {
    /// The calling code and the leading digits of the national number.
    let prefix: String
    /// "premium-rate", "shared-cost", "personal-numbering", …, for the refusal's reason.
    let kind: String
  }

  /// Calling code, national prefixes, kind.
  static let table: [(code: String, prefixes: [String], kind: String)] = [
    // NANP (US, Canada, Caribbean): 900 premium, 976 (legacy information services).
    ("1", ["900", "976"], "premium-rate"),
    // UK: 09 premium rate; 0871-0873 revenue-sharing service numbers; 084 shared cost;
    // 070 personal numbering (often abused for toll fraud).
    ("44", ["9"], "premium-rate"),
    ("44", ["871", "872", "873"], "premium-rate service"),
    ("44", ["84"], "shared-cost"),
    ("44", ["70"], "personal-numbering"),
    // Ireland: 15xx premium rate (1520-1599), 0818 / 1850 / 1890 shared cost.
    ("353", ["15"], "premium-rate"),
    ("353", ["818", "1850", "1890"], "shared-cost"),
    // Germany: 0900 premium, 0137 mass traffic (televoting), 0180 shared cost.
    ("49", ["900"], "premium-rate"),
    ("49", ["137"], "mass-traffic"),
    ("49", ["180"], "shared-cost"),
    // France: 08 special-rate numbers (081, 082, 089 are premium; 080 is free, but no mobile is there).
    ("33", ["8"], "special-rate"),
    // Spain: 803, 806, 807, 905 premium; 901, 902 shared cost.
    ("34", ["803", "806", "807", "905"], "premium-rate"),
    ("34", ["901", "902"], "shared-cost"),
    // Italy: 89x premium; 84x shared cost.
    ("39", ["89"], "premium-rate"),
    ("39", ["84"], "shared-cost"),
    // Netherlands: 0900, 0906, 0909 premium.
    ("31", ["90"], "premium-rate"),
    // Belgium: 090x premium; 070, 078 shared cost.
    ("32", ["90"], "premium-rate"),
    ("32", ["70", "78"], "shared-cost"),
    // Switzerland: 0900, 0901, 0906 premium; 084x shared cost.
    ("41", ["90"], "premium-rate"),
    ("41", ["84"], "shared-cost"),
    // Austria: 0900, 0901, 0930, 0931, 0939 premium; 0810, 0820 shared cost.
    ("43", ["90", "93"], "premium-rate"),
    ("43", ["810", "820"], "shared-cost"),
    // Australia: 190x premium; 13 and 1300 shared cost.
    ("61", ["19"], "premium-rate"),
    ("61", ["13"], "shared-cost"),
    // ITU-T E.164: +979 international premium rate, +808 international shared cost.
    ("979", [""], "premium-rate"),
    ("808", [""], "shared-cost"),
    // Satellite and international networks (+881 GMSS, +882, +883), priced far above mobiles.
    ("881", [""], "satellite"),
    ("882", [""], "international-network"),
    ("883", [""], "international-network"),
  ]

  /// The range `contact` (a number) is in, or nil.
  static func range(of contact: Contact) -> Range? {
    let code = contact.callingCode
    let national = contact.nationalNumber
    for entry in table where entry.code == code {
      for prefix in entry.prefixes where national.hasPrefix(prefix) {
        return Range(prefix: code + prefix, kind: entry.kind)
      }
    }
    return nil
  }
}
