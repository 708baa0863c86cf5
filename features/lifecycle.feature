Feature: The life of a lead, from inquiry to won or lost
  Marketing captures, qualifies and hands leads to a named sales owner; sales accepts
  or rejects each handoff, follows up, proposes and closes. Every step is written once,
  in order, and can never be edited (a mistake is corrected by a new entry, see
  corrections.feature), so both teams argue from the same record.

  The stories take place in the week of Monday 2 March 2026, in Chicago time, under the
  2026 growth agreement. Maria and Li work in marketing, Sam and Ola in sales.
  "A handed lead" is one that Maria captured on Monday at 09:00, qualified at 09:30 and
  Li handed to Sam at 10:00; an accepted lead was then accepted by Sam at 11:00, and so on.

  Background:
    Given the 2026 growth agreement is in force

  Rule: Marketing qualifies a captured lead, then hands it to a named sales owner
    Sales can only work on leads that marketing has vetted, and every lead must have
    exactly one person in sales who answers for it.

    Example: Maria captures a new inquiry
      When Maria captures lead "ACME-1" from "webinar" on Monday at 09:00
      Then the lead is captured
      And the lead's history reads captured

    Example: Maria qualifies a captured lead
      Given a captured lead "ACME-1"
      When Maria qualifies the lead with score 80 on Monday at 11:00
      Then the lead is qualified

    Example: Li hands a qualified lead to Sam
      Given a qualified lead "ACME-1"
      When Li hands the lead to Sam on Monday at 14:00
      Then the lead is handed to Sam

    Example: A lead that was never qualified cannot be handed
      Given a captured lead "ACME-1"
      When Li hands the lead to Sam on Monday at 14:00
      Then it is refused, saying "handed needs a lead in state qualified"
      And nothing is written

  Rule: A lead is handed to a person, never to the name reports give the leads nobody owns
    By owner, the reports put every step a lead takes before its first handoff in a group
    named "unassigned". A salesperson by that name would have their leads counted in with
    the ones nobody owns yet, and neither team could tell the two apart.

    Example: A handoff to "unassigned" is refused
      Given a qualified lead "ACME-1"
      When Li hands the lead to Unassigned on Monday at 14:00
      Then it is refused, saying "owner 'unassigned' is taken"
      And nothing is written

  Rule: Sales decides each handoff: it accepts the lead or sends it back with a reason
    The SLA clock runs from the handoff until this decision; a rejection must say why,
    so marketing can learn from it.

    Example: Sam accepts a lead handed to him
      Given a handed lead "ACME-1"
      When Sam accepts the lead on Monday at 15:30
      Then the lead is accepted

    Example: Sam rejects a lead with a reason
      Given a handed lead "ACME-1"
      When Sam rejects the lead on Monday at 15:30 because "student, no budget"
      Then the lead is rejected

    Example: A lead cannot be accepted before it is handed
      Given a qualified lead "ACME-1"
      When Sam accepts the lead on Monday at 15:30
      Then it is refused, saying "accepted needs a lead in state handed"
      And nothing is written

    Example: An accepted lead cannot be rejected afterwards
      Given an accepted lead "ACME-1"
      When Sam rejects the lead on Tuesday at 09:00 because "changed my mind"
      Then it is refused, saying "rejected needs a lead in state handed"
      And nothing is written

  Rule: A rejected lead goes back to marketing, which may requalify it and hand it again
    Rejections are feedback, not a dead end: a recycled lead keeps its whole history,
    and its second handoff is a new handoff with its own SLA clock.

    Example: Maria requalifies a rejected lead and Li hands it to Ola
      Given a rejected lead "ACME-1"
      When Maria requalifies the lead on Tuesday at 09:00
      And Li hands the lead again to Ola on Tuesday at 10:00
      Then the lead is handed to Ola
      And the lead's history reads captured, qualified, handed, rejected, qualified, handed

    Example: A rejected lead cannot be handed again without requalifying it
      Given a rejected lead "ACME-1"
      When Li hands the lead again to Ola on Tuesday at 10:00
      Then it is refused, saying "handed needs a lead in state qualified"
      And nothing is written

  Rule: Follow-up attempts are logged while the lead is with sales, without changing its stage
    The agreement counts follow-up attempts; logging one is not a decision, so it neither
    stops the SLA clock nor moves the lead along.

    Example: Sam calls a lead that is waiting for his decision
      Given a handed lead "ACME-1"
      When Sam contacts the lead by phone on Monday at 11:00
      Then the lead is still handed to Sam
      And the lead's history reads captured, qualified, handed, contacted

    Example: Sam e-mails an accepted lead twice
      Given an accepted lead "ACME-1"
      When Sam contacts the lead by email on Tuesday at 09:00
      And Sam contacts the lead by email on Wednesday at 09:00
      Then the lead is still accepted

    Example: Ola follows up on a proposal
      Given a lead "ACME-1" with a proposal of 30000
      When Ola contacts the lead by phone on Tuesday at 09:00
      Then the lead is still at proposal

    Example: Sales cannot log a contact for a lead that marketing still holds
      Given a qualified lead "ACME-1"
      When Sam contacts the lead by phone on Monday at 11:00
      Then it is refused, saying "contacted needs a lead in state handed, accepted or proposal"
      And nothing is written

    Example: Sales cannot log a contact for a lead it rejected
      Given a rejected lead "ACME-1"
      When Sam contacts the lead by phone on Monday at 11:30
      Then it is refused, saying "lead 'ACME-1' is rejected"
      And nothing is written

  Rule: An accepted lead gets proposals, then is won or lost
    A deal is only won after a proposal states its value; a lead may be lost at any
    point once sales has accepted it.

    Example: Sam sends a proposal to an accepted lead
      Given an accepted lead "ACME-1"
      When Sam sends a proposal of 30000 on Tuesday at 10:00
      Then the lead is at proposal

    Example: Sam sends a revised proposal
      Given a lead "ACME-1" with a proposal of 30000
      When Sam sends a proposal of 27500 on Wednesday at 10:00
      Then the lead is at proposal
      And the lead's history reads captured, qualified, handed, accepted, proposal, proposal

    Example: Sam wins the deal at the amount of the last proposal
      Given a lead "ACME-1" with a proposal of 30000
      When Sam sends a proposal of 27500 on Wednesday at 10:00
      And Sam wins the deal on Friday at 16:00
      Then the deal is won for 27500

    Example: Sam wins the deal at a negotiated amount
      Given a lead "ACME-1" with a proposal of 30000
      When Sam wins the deal for 28000.50 on Friday at 16:00
      Then the deal is won for 28000.50

    Example: Sam loses the deal after the proposal
      Given a lead "ACME-1" with a proposal of 30000
      When Sam loses the deal on Friday at 16:00 because "went with a competitor"
      Then the lead is lost

    Example: Sam loses an accepted lead before any proposal
      Given an accepted lead "ACME-1"
      When Sam loses the deal on Tuesday at 16:00 because "project cancelled"
      Then the lead is lost

    Example: A deal cannot be won without a proposal
      Given an accepted lead "ACME-1"
      When Sam wins the deal for 30000 on Tuesday at 16:00
      Then it is refused, saying "won needs a lead in state proposal"
      And nothing is written

    Example: A proposal cannot be sent before sales accepts the lead
      Given a handed lead "ACME-1"
      When Sam sends a proposal of 30000 on Monday at 16:00
      Then it is refused, saying "proposal needs a lead in state accepted or proposal"
      And nothing is written

    Example: A lead waiting for a decision cannot be lost
      Given a handed lead "ACME-1"
      When Sam loses the deal on Monday at 16:00 because "no answer"
      Then it is refused, saying "lost needs a lead in state accepted or proposal"
      And nothing is written

  Rule: Amounts are money and must be greater than zero
    A proposal or a win of zero or less would distort revenue and the win rate.

    Example: A proposal of zero is refused
      Given an accepted lead "ACME-1"
      When Sam sends a proposal of 0 on Tuesday at 10:00
      Then it is refused, saying "amount must be greater than 0"
      And nothing is written

    Example: A negative proposal is refused
      Given an accepted lead "ACME-1"
      When Sam sends a proposal of -500 on Tuesday at 10:00
      Then it is refused, saying "amount must be greater than 0"
      And nothing is written

    Example: A win for zero is refused
      Given a lead "ACME-1" with a proposal of 30000
      When Sam wins the deal for 0 on Friday at 16:00
      Then it is refused, saying "amount must be greater than 0"
      And nothing is written

  Rule: Won and lost are final
    A closed deal is history: reopening it would rewrite revenue already reported.
    New business from the same company is a new lead.

    Example: Nothing more can happen to a won lead
      Given a won lead "ACME-1"
      When Sam contacts the lead by phone on Tuesday at 09:00
      Then it is refused, saying "is won, which is final"
      And nothing is written

    Example: A lost lead cannot be requalified
      Given a lost lead "ACME-1"
      When Maria requalifies the lead on Tuesday at 09:00
      Then it is refused, saying "is lost, which is final"
      And nothing is written

    Example: A lost deal cannot be won after all
      Given a lost lead "ACME-1"
      When Sam wins the deal for 30000 on Tuesday at 09:00
      Then it is refused, saying "is lost, which is final"
      And nothing is written

  Rule: A lead's steps are written in the order they happened, and not ahead of time
    The history is an audit trail: a step dated before the lead's previous one would
    make the trail contradict itself, unless it is recorded as a missed step with its
    reason (see corrections.feature), and a step dated in the future has not happened.
    Five minutes of slack allow for clocks that disagree a little.

    Example: A step dated before the lead's previous step is refused
      Given an accepted lead "ACME-1"
      When Sam contacts the lead by phone on Monday at 10:30
      Then it is refused, saying "is before its previous event (accepted at"
      And nothing is written

    Example: A step dated more than five minutes ahead is refused
      Given an accepted lead "ACME-1"
      And it is now Tuesday at 10:00
      When Sam sends a proposal of 30000 on Tuesday at 10:06
      Then it is refused, saying "is in the future (more than 5 minutes after now)"
      And nothing is written

    Example: A step dated a few minutes ahead is accepted
      Given an accepted lead "ACME-1"
      And it is now Tuesday at 10:00
      When Sam sends a proposal of 30000 on Tuesday at 10:04
      Then the lead is at proposal

  Rule: A step is known by its lead, its event and its instant
    An export names each step by its lead, event and instant, and an import reads it back
    by them (see import.feature): two calls logged at the same minute, one by phone and
    one by e-mail, would read back as one step said two ways, and the export of the store
    would not import again. The second is given its own instant; the same step logged
    twice at one instant stays two steps, as typed.

    Example: A second call at the same instant, by another channel, is refused
      Given an accepted lead "ACME-1"
      And Sam contacted the lead by phone on Monday at 11:30
      When Sam contacts the lead by email on Monday at 11:30
      Then it is refused, saying "already has contacted at"
      And nothing is written

    Example: A second call a minute later is recorded
      Given an accepted lead "ACME-1"
      And Sam contacted the lead by phone on Monday at 11:30
      When Sam contacts the lead by email on Monday at 11:31
      Then the lead's history reads captured, qualified, handed, accepted, contacted and contacted

  Rule: A lead's key names one lead only
    The key is the CRM id or e-mail address both teams use to talk about the lead;
    capturing it twice would split one lead's history in two.

    Example: Capturing a key that already exists is refused
      Given a captured lead "ACME-1"
      When Li captures lead "ACME-1" from "trade show" on Tuesday at 09:00
      Then it is refused, saying "lead 'ACME-1' already exists"
      And nothing is written

  Rule: Every step records when it happened, when it was written, by whom and under which agreement
    The record must answer an auditor's questions months later: which agreement's
    promises applied to this step, and who vouched for it.

    Example: A capture written a few minutes after the call
      Given it is now Monday at 09:05
      When Maria captures lead "ACME-1" from "webinar" on Monday at 09:00
      Then the lead's "captured" occurred on Monday at 09:00
      And it was recorded on Monday at 09:05 by Maria
      And it was recorded under the "2026 growth agreement"

    Example: An acceptance entered the next morning
      Given a handed lead "ACME-1"
      And it is now Tuesday at 08:30
      When Sam accepts the lead on Monday at 16:45
      Then the lead's "accepted" occurred on Monday at 16:45
      And it was recorded on Tuesday at 08:30 by Sam
      And it was recorded under the "2026 growth agreement"
