Feature: Tamper evidence
  Marketing and sales argue from one record, and an auditor checks it months later: its
  numbers are worth arguing from only if nothing in it can be changed without it showing.
  Every entry is sealed to the one before it by a hash when the command that recorded it
  ends. The check of the record (handoff audit verify) reads the whole record against
  its seals and names the first entry changed by other means (a database tool, a disk
  editor); a digest of the record kept elsewhere proves later that the record still
  extends the one it was taken of.

  Background:
    Given the 2026 growth agreement is in force

  Rule: An entry slipped into the record is named, wherever it is placed
    The record is every entry the store holds. The store numbers its entries from 1, but
    an entry numbered before the first one is still a step of its lead for every view and
    report, so the check names it too, rather than call the record intact while the
    figures read it.

    Example: A win slipped in before the record's first entry is named
      Given a lead "acme-1" with a proposal of 30000
      And every entry of the record is sealed
      When someone slips a win for lead "acme-1" into the store before the record's first entry
      Then the check names log entry 0, of lead "acme-1", as inserted

    Example: A win slipped in after the record's last entry is named, sealed or not
      Given a lead "acme-1" with a proposal of 30000
      And every entry of the record is sealed
      When someone slips a win for lead "acme-1" into the store after the record's last entry
      And Maria reads the March figures ten minutes later
      Then the check names the slipped win, of lead "acme-1", as out of its lead's order

  Rule: Entries sealed after the fact are named as such at every check
    An entry is sealed when the command that recorded it ends. When a later command seals
    it instead (that command was stopped before its end, or the seals were deleted and the
    entry perhaps changed meanwhile), the seal vouches only for the entry as it stood then.
    So the record keeps which entries were sealed late, by which command and when, and
    every check says so: a warning given once and not read would let a changed entry pass
    for one recorded so. Only a digest kept from before vouches for those entries. An entry
    recorded less than an hour before is not named: its own command may still be at work
    (delivering the day's notices), and a shorter one, begun meanwhile, sealed it first.

    Example: Entries whose seals were deleted stay named as sealed late
      Given a lead "acme-1" with a proposal of 30000
      And Maria kept the digest of the record, every entry of it sealed
      When someone deletes the record's seals and raises the proposal of lead "acme-1" to 90000
      And Maria reads the March figures the next day
      Then every check names the entries of lead "acme-1" as sealed late by "kpi"
      And the record no longer extends the digest Maria kept

    Example: An entry sealed by a shorter command while its own was still at work is not named
      Given a lead "acme-1" with a proposal of 30000
      And every entry of the record is sealed
      And Sam contacts lead "acme-1", his command still delivering notices as Maria starts hers
      When Maria reads the March figures ten minutes later
      Then the check names no entry as sealed late

  Rule: No backup is taken of a record whose last entries were removed
    The backup is what the team restores from when the store is lost. Entries deleted
    from the end of the record by other means (a database tool removing the newest rows)
    leave a shorter record whose every entry is still in order: a backup of it would read
    as whole, and once restored, the removed steps would be gone for good with nobody
    told. So before it writes anything, the backup compares where the record ends with
    where its seals reach, and refuses a record that ends before them, saying both; the
    check of the record names the first entry removed, and the last good backup holds it.

    Example: A backup of a record whose last two entries were deleted is refused
      Given a lead "acme-1" with a proposal of 30000
      And every entry of the record is sealed
      When someone deletes the record's last two entries
      Then no backup is written: the record ends two entries before its seals reach
