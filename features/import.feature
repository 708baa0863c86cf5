Feature: Importing a file of events
  Teams move their history in from a CRM export and re-run an import that was cut short.
  Re-importing what the store already holds must change nothing, and a file must never
  change what was recorded behind anyone's back.

  Rule: A recorded event is not changed by importing it again
    A row naming an event the store holds (same lead, event and instant) is skipped only
    when it says the same thing. A row that says something else is a correction; history is
    corrected by recorded corrections, never silently, so the import is refused and names
    the row.

    Example: A win imported again with another amount is refused
      Given a lead "ACME-1" won for 25200 on Friday at 13:00
      When Maria imports a win of "ACME-1" for 99999 on Friday at 13:00
      Then the import is refused at line 2, saying "already has won"
      And the deal is still won for 25200

    Example: A win imported again with the same amount is skipped
      Given a lead "ACME-1" won for 25200 on Friday at 13:00
      When Maria imports a win of "ACME-1" for 25200.00 on Friday at 13:00
      Then the import skips 1 row as already recorded
      And the deal is still won for 25200

  Rule: A step corrected since it was recorded is not recorded again by importing it
    A file imported again (an import run a second time, or the CRM's next export) still
    holds each step as it was first recorded. A void or an amendment is a decision someone
    recorded, with its reason; importing the old row must neither bring a voided step back
    nor be refused because the step now reads otherwise. The store holds that step, so the
    row is skipped as already recorded, and the correction stands.

    Example: An acceptance voided since is not brought back by importing it again
      Given an accepted lead "ACME-1"
      And Sam voided the acceptance of "ACME-1" because "accepted the wrong lead"
      When Maria imports an acceptance of "ACME-1" by Sam on Monday at 11:00
      Then the import skips 1 row as already recorded
      And the lead "ACME-1" is handed to Sam

    Example: A win amended since is skipped when imported again as first recorded
      Given a lead "ACME-1" won for 25200 on Friday at 13:00
      And Sam amended the win of "ACME-1" to 22000 because "the discount was left out"
      When Maria imports a win of "ACME-1" for 25200 on Friday at 13:00
      Then the import skips 1 row as already recorded
      And the deal is still won for 22000

  Rule: A day's visits imported again are not counted again
    Marketing's traffic files often correct a day within the file. Importing the same file
    again must leave the day as it was, not record each correction once more.

    Example: A day corrected within a file is recorded once however often it is imported
      Given a traffic file that records 100 visits on Monday and then 200
      When Maria imports it 3 times
      Then Monday's visits are 200
      And Monday's visits were recorded 2 times

  Rule: A lead's key is read exactly as typed
    A key is the lead's name in the CRM; the import keeps it exactly as the command line
    does, so the same key never names two leads.

    Example: A key with a leading space stays a key of its own
      When Maria imports a capture of " ACME-1" from "web" on Monday at 09:00
      Then the lead " ACME-1" exists
      And the lead "ACME-1" does not exist

  Rule: A stage the CRM skipped counts from the next stage it dates
    HubSpot and Salesforce let a lead jump stages (a contact made sales qualified at once);
    the agreement's lifecycle does not. Importing a CRM's export records each stage it
    skipped at the instant of the next stage it dates, and says how many it recorded so:
    the lead counts at every stage it passed, and that handoff is decided at once. The
    CRM does not say who moved the lead, so sales' stages are recorded in the name of the
    owner the lead was handed to. Salesforce's Lead export may name that owner by the
    user's id alone (`OwnerId`): the lead is handed to the name the history's changes of
    owner give that user, as every other handoff to them, so that one salesperson is not
    two owners in the figures.

    Example: A contact sales qualified at once was qualified, handed and accepted then
      Given a HubSpot contact "106" created on Monday at 09:00, owned by Sam and sales qualified on Thursday at 11:00
      When Maria imports the HubSpot export
      Then the lead "106" was qualified, handed to Sam and accepted by Sam on Thursday at 11:00
      And the import says 2 stages HubSpot skipped were recorded so

    Example: A Salesforce lead owned by a user's id is handed to that user by name
      Given a Salesforce lead "00Q2" created on Monday at 09:00, owned by Sam's user id and set to "Working" on Thursday at 11:00
      And the Salesforce history gives another lead to Sam, naming Sam's user id
      When Maria imports the Salesforce export
      Then the lead "00Q2" was qualified, handed to Sam and accepted by Sam on Thursday at 11:00

  Rule: A later export of the CRM adds only what is new
    Teams import their CRM's export every week. HubSpot keeps only a contact's latest owner,
    and dates a status by the contact's last activity, which moves whenever someone logs a
    call. What a later export says of a lead the store holds, through an owner, a status or
    a stage it skipped, adds nothing once the lead is past that stage: the row is skipped as
    already recorded, the history recorded from the earlier export stands, and the rest of
    the file is imported. Contacts change their e-mail and companies their name in the CRM
    every week: the details a lead was captured with stand (a correction is recorded with
    its reason, by lead amend), the import says how many contacts now read otherwise, and a
    week's export is not refused for them.

    Example: A rejected contact active since is not rejected again
      Given a HubSpot contact "103" handed to Sam on Monday at 10:00, then marked Unqualified and last active on Monday at 15:00
      And Maria imported the HubSpot export
      When the contact is last active on Wednesday at 09:00 and Maria imports the HubSpot export again
      Then the import skips 4 rows as already recorded
      And the lead "103" was rejected by Sam on Monday at 15:00

    Example: A customer reassigned since is not handed over again
      Given a HubSpot customer "101" handed to Sam on Monday at 10:00 and won for 24000 on Tuesday at 10:00
      And Maria imported the HubSpot export
      When the contact is reassigned to Ola on Wednesday at 09:00 and Maria imports the HubSpot export again
      Then the import skips 6 rows as already recorded
      And the lead "101" was handed to Sam on Monday at 10:00 and is won

    Example: A contact whose e-mail changed since is imported with the rest
      Given a HubSpot contact "103" handed to Sam on Monday at 10:00, then marked Unqualified and last active on Monday at 15:00
      And Maria imported the HubSpot export
      When the contact's e-mail is changed to "cy@new.example" and Maria imports the HubSpot export again
      Then the import skips 4 rows as already recorded and says 1 contact's details changed since
      And the lead "103" still has the e-mail it was captured with

  Rule: A change of owner hands a lead over only while the CRM holds the lead open
    Salesforce dates every change of a lead's owner, and a change to a salesperson while
    marketing has the lead is its handoff. A lead the CRM closed (Closed - Not Converted,
    Unqualified) is worked by nobody: giving it to another owner, as a cleanup does when
    someone leaves, hands nothing over. Counted as a handoff, it would be overdue at once,
    a breach of the SLA for a lead nobody sent. Once a status opens the lead again (marketing
    qualifies it anew), its next change of owner is a handoff again.

    Example: A closed lead given to a new owner is not handed over
      Given a Salesforce lead "00Q1" created on Monday at 09:00, closed as "Closed - Not Converted" on Monday at 11:00 and given to Sam on Wednesday at 09:00
      When Maria imports the Salesforce export
      Then the lead "00Q1" is still captured, handed to nobody

    Example: A closed lead qualified again is handed over by its next change of owner
      Given a Salesforce lead "00Q1" created on Monday at 09:00, closed as "Closed - Not Converted" on Monday at 11:00, marked "Marketing Qualified" on Tuesday at 09:00 and given to Sam on Wednesday at 09:00
      When Maria imports the Salesforce export
      Then the lead "00Q1" is handed to Sam

  Rule: A backup is restored only as the commands would have recorded it
    A backup is a file, and anyone can edit a file. A restored store must read as one the
    commands recorded, with the same figures: each entry of the backup is held to the
    checks of the command that records it, on the lead or the day as the entries before it
    left it, and under the agreement its entries had put in force by then: each step names
    the version in force for its day among those signed when it was recorded (a version
    signed later, a restatement too, never rewrites it), and was recorded by someone its
    team lets record it.
    The agreement's own entries are held to `sla apply` and `sla sign`: each version was
    proposed and signed by members of its team, for their own side, and the version that
    came into force is the one both sides signed.
    An entry no command would record refuses the whole backup, naming its line, and nothing
    is restored.

    Example: A backup in which someone outside the team handed a lead over is refused
      Given a backup of the lead "ACME-1" handed over to Sam on Monday at 11:00 under the agreement
      When Maria restores it edited so that Mallory handed it over
      Then the restore is refused at line 8, saying "'mallory' may not record handed"
      And the store is still empty

    Example: A backup in which someone outside the team signed the agreement is refused
      Given a backup of the lead "ACME-1" handed over to Sam on Monday at 11:00 under the agreement
      When Maria restores it edited so that Mallory signed the agreement
      Then the restore is refused at line 4, saying "'mallory' is on neither side of the team"
      And the store is still empty

    Example: A backup in which the agreement signed is not the one proposed is refused
      Given a backup of the lead "ACME-1" handed over to Sam on Monday at 11:00 under the agreement
      When Maria restores it edited so that the agreement in force gives sales 80 business hours
      Then the restore is refused at line 5, saying "is not what sla sign records: it differs in the terms"
      And the store is still empty

    Example: A backup in which a step names an agreement that never came into force is refused
      Given a backup of the lead "ACME-1" handed over to Sam on Monday at 11:00 under the agreement
      When Maria restores it edited so that the handoff names version 7 of the agreement
      Then the restore is refused at line 8, saying "(version 7), which was not in force for it"
      And the store is still empty

    Example: A backup in which a step names the version its revision had replaced is refused
      Given a backup of the lead "ACME-1" handed over to Sam on Monday at 11:00, recorded the day after the agreement was revised
      When Maria restores it edited so that the handoff names version 1 of the agreement
      Then the restore is refused at line 11, saying "(version 1), which version 2 had replaced for it when it was recorded"
      And the store is still empty

    Example: A backup in which a lead was qualified before it was captured is refused
      Given a backup of the lead "ACME-1" captured on Monday at 09:00 and qualified on Monday at 10:00
      When Maria restores it edited so that the lead was qualified on 2 February 2026 at 10:00
      Then the restore is refused at line 3, saying "is before its previous event"
      And the store is still empty

    Example: A backup counting more visits than anyone could type is refused
      Given a backup of 100 visits recorded for Monday
      When Maria restores it edited so that Monday had 9000000000000000000 visits
      Then the restore is refused at line 3, saying "visits must be between 0 and 999999999999"
      And the store is still empty

    Example: A backup as it was exported is restored
      Given a backup of the lead "ACME-1" captured on Monday at 09:00 and qualified on Monday at 10:00
      When Maria restores it as it was exported
      Then the lead "ACME-1" exists

  Rule: A backup cut short is not restored
    A backup is copied, mailed and uploaded, and a copy can stop short of its end. Restored,
    part of a log reads as a store with fewer leads and smaller figures, and nothing would
    say so. So a backup ends with a line counting its entries: a file without that line, or
    with fewer or more entries than it counts, is refused, and nothing is restored.

    Example: A backup that stops short of its end is refused
      Given a backup of the lead "ACME-1" captured on Monday at 09:00 and qualified on Monday at 10:00
      When Maria restores only its first 2 lines
      Then the restore is refused, saying "the backup stops at line 2, short of its last line"
      And the store is still empty

    Example: A backup missing one of its entries is refused
      Given a backup of the lead "ACME-1" captured on Monday at 09:00 and qualified on Monday at 10:00
      When Maria restores it without its line 3
      Then the restore is refused, saying "the backup holds 1 entry where its last line counts 2"
      And the store is still empty
