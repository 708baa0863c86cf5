Feature: Handoff SLA compliance
  Sales promises to accept or reject every handed lead within the agreement's number of
  business hours (in the examples, the 2026 growth agreement's 8, from 09:00 to 17:00
  Chicago time, Monday to Friday). Compliance is the share of judged handoffs where that
  promise was kept.

  Background:
    Given it is now 1 March 2026 at 08:00
    And the 2026 growth agreement without a team is in force

  Rule: A handoff decided by its due instant is decided in time
    The clock counts business hours only: handed Monday at 10:00, due Tuesday at 10:00.

    Example: Accepted on the due instant
      Given it is now Wednesday at 12:00
      And a handed lead "acme"
      When sam accepts the lead on Tuesday at 10:00
      Then the March 2026 report reads 1 decided in time and compliance 100%

  Rule: A decision after the due instant is late, and counts as a breach
    A late answer still leaves marketing waiting past what sales promised.

    Example: Rejected half an hour late
      Given it is now Wednesday at 12:00
      And a handed lead "acme"
      When sam rejects the lead on Tuesday at 10:30 because "no budget"
      Then the March 2026 report reads 1 decided late, 1 breached and compliance 0%

  Rule: An undecided handoff is pending until its due instant, then overdue
    Overdue is judged when the report is read, so that an open handoff becomes a
    breach the moment its time is up, not only once someone decides it.

    Example: Still pending a minute before it is due
      Given it is now Monday at 10:05
      And a handed lead "acme"
      When it is now Tuesday at 09:59
      Then the March 2026 report reads 1 pending, 0 breached and compliance null

    Example: Still pending on its due instant
      Given it is now Monday at 10:05
      And a handed lead "acme"
      When it is now Tuesday at 10:00
      Then the March 2026 report reads 1 pending, 0 breached and compliance null

    Example: Overdue a minute after it is due
      Given it is now Monday at 10:05
      And a handed lead "acme"
      When it is now Tuesday at 10:01
      Then the March 2026 report reads 1 overdue, 1 breached and compliance 0%

  Rule: Business hours stop over the weekend
    A lead handed on Friday afternoon is not late on Saturday: its clock resumes on Monday.

    Example: Handed on Friday afternoon, accepted on Monday
      Given it is now Monday 9 March 2026 at 18:00
      And a qualified lead "weekend"
      When li hands the lead to sam on Friday at 15:00
      And sam accepts the lead on Monday 9 March 2026 at 14:00
      Then the March 2026 report reads 1 decided in time and median response 7.00 hours

  Rule: The breach alarm sounds only for open overdue handoffs in the period asked about
    A scheduled job asks for the breaches of a month and raises the alarm when one is
    still waiting for sales: a handoff decided late is history, and a handoff of another
    month, however long overdue, is not this month's alarm.

    Example: Overdue in March, asked about March and about February
      Given it is now Monday at 10:05
      And a handed lead "acme"
      When it is now Wednesday at 12:00
      Then the breaches handed in March 2026 list "acme" overdue and sound the alarm
      And the breaches handed in February 2026 list nothing and sound no alarm

    Example: Decided late sounds no alarm
      Given it is now Wednesday at 12:00
      And a handed lead "acme"
      When sam rejects the lead on Tuesday at 10:30 because "no budget"
      Then the breaches handed in March 2026 list "acme" decided late and sound no alarm
