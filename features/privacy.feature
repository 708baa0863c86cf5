Feature: Forgetting a person
  A lead is somebody's inquiry: their name, e-mail address and company are personal data,
  and a person may ask the company to erase them. Marketing and sales must still be able
  to trust every number afterwards, and an auditor the record.

  Background:
    Given the 2026 growth agreement is in force

  Rule: A forgotten person's details are erased, and their lead keeps counting
    Forgetting a lead erases its name, e-mail address and company from the record, from
    the entries already written too, so that nothing in the store can give them back.
    The lead's steps stay: it still counts in every KPI and SLA figure, so neither side's
    numbers move because somebody used their right to be forgotten, and the record still
    proves that nothing else was changed. Every view of the lead, its history included,
    shows "[forgotten]" where the details were, so that nobody takes them for never given.

    Example: Ann Lee asks to be forgotten after Sam won her deal
      Given Ann Lee of Acme, ann@acme.example, is lead "acme-1", won by Sam for 30000
      When Maria forgets lead "acme-1" because "Ann asked by e-mail on 20 March"
      Then lead "acme-1" shows "[forgotten]" for its name, e-mail address and company
      And nothing in the store holds "Ann Lee", "ann@acme.example" or "Acme" any more
      And the March figures are the same as before Ann was forgotten
      And the record is intact

    Example: Details given in a correction are erased too
      Given Ann Lee of Acme, ann@acme.example, is lead "acme-1", won by Sam for 30000
      And Maria corrected the capture of lead "acme-1": Ann Smith of Smithco, ann@smith.example
      When Maria forgets lead "acme-1" because "Ann asked by e-mail on 20 March"
      Then lead "acme-1" shows "[forgotten]" for its name, e-mail address and company
      And nothing in the store holds "Ann Smith", "ann@smith.example" or "Smithco" any more
      And the March figures are the same as before Ann was forgotten
      And the record is intact

    Example: Ann Lee's history shows her details as forgotten, corrected ones too
      Given Ann Lee of Acme, ann@acme.example, is lead "acme-1", won by Sam for 30000
      And Maria corrected the capture of lead "acme-1": Ann Smith of Smithco, ann@smith.example
      When Maria forgets lead "acme-1" because "Ann asked by e-mail on 20 March"
      Then the history of lead "acme-1" shows "[forgotten]" for the name, e-mail address and company of its capture and of its correction

  Rule: Importing a file again does not bring a forgotten person back
    The file a lead came from (a CRM export, a spreadsheet) may still hold the person's
    details after they were forgotten. Importing it again must neither write them back nor
    be refused for them: the lead's capture is recorded and its details stay forgotten, so
    the import skips that row as it skips any step already recorded, and the rest of the
    file is imported as usual. It says which forgotten leads the file still names the
    person of, so that whoever imports it knows the person is still where the file came
    from, to be erased there too. A backup, though, holds the store's entries as they now are,
    the details erased: one that holds them again was edited, and is refused whole.

    Example: The capture of a forgotten lead imported again is skipped
      Given Ann Lee of Acme, ann@acme.example, is lead "acme-1", won by Sam for 30000
      And Maria forgot lead "acme-1" because "Ann asked by e-mail on 20 March"
      When Maria imports the capture of lead "acme-1" again: Ann Lee of Acme, ann@acme.example
      Then the import skips it as already recorded
      And the import says the file still names the forgotten person of lead "acme-1"
      And lead "acme-1" shows "[forgotten]" for its name, e-mail address and company
      And nothing in the store holds "Ann Lee", "ann@acme.example" or "Acme" any more

    Example: A backup edited to name a forgotten person again is refused
      Given Ann Lee of Acme, ann@acme.example, is lead "acme-1", won by Sam for 30000
      And Maria forgot lead "acme-1" because "Ann asked by e-mail on 20 March"
      When Maria restores the store's backup into an empty store, edited so that the capture of lead "acme-1" names Ann Lee again
      Then the restore is refused, saying "lead 'acme-1' is forgotten, yet its entry 1 still holds the person's details"
      And the empty store still holds nothing

  Rule: Who forgot a lead, when and why stays on record
    An erasure is part of the record too: the lead's history shows who forgot it, when
    and why. Forgetting cannot be undone, so it needs a reason.

    Example: The history says who forgot Ann Lee and why
      Given Ann Lee of Acme, ann@acme.example, is lead "acme-1", won by Sam for 30000
      When Maria forgets lead "acme-1" because "GDPR request 2026-17"
      Then the history of lead "acme-1" ends with Maria forgetting it because "GDPR request 2026-17"

    Example: Forgetting without a reason is refused
      Given Ann Lee of Acme, ann@acme.example, is lead "acme-1", won by Sam for 30000
      When Maria forgets lead "acme-1" without a reason
      Then it is refused, saying "forgetting a lead needs a reason"
      And lead "acme-1" still shows "Ann Lee"
