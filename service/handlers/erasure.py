"""Erasing a person (GDPR art. 17), and the rule that follows from it: nothing
more is recorded about an erased person, whoever asks."""
from __future__ import annotations

from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from domain.candidate import Candidate
from service import commands as c
from service.errors import PersonErased
from service.unit import Handlers, Outcome, Unit, changed

handles = Handlers()


def refuse_if_erased(u: Unit, candidate_id: UUID | None) -> None:
    """Erasure is final: a command that would record something about an erased
    person is refused (a conflict), whoever asks. Read from the key store's
    erasures (one indexed row, written before CandidateErased, never cached),
    so an erasure by another process counts at once; the key store refuses to
    seal as well (a data key is never made again for an erased person).

    With a key store the row is read by the statement that stores the events
    (no round trip of its own; see TenantRecorder), and again here only if
    the command is refused for another reason, so that the erasure answers
    first, as if read up front (refuse_erased_now)."""
    if candidate_id is None:
        return
    if u.app.person_keys is not None:
        u.unerased.add(candidate_id)
        return
    # No key store (sealing off): the person's own record says it.
    try:
        erased = getattr(u.load_fresh(candidate_id), "is_erased", False)
    except AggregateNotFoundError:
        erased = False
    if erased:
        raise PersonErased()


def refuse_erased_now(u: Unit) -> None:
    """The erasure check that refuse_if_erased left to the save, read now."""
    keys = u.app.person_keys
    for candidate_id in u.unerased:
        if keys.is_erased(u.app.tenant.id, candidate_id):
            raise PersonErased()


@handles(c.EraseCandidate, roles={"agency"})
def erase_candidate(u: Unit, cmd: c.EraseCandidate) -> Outcome:
    candidate = u.get(Candidate, cmd.candidate_id)
    candidate.erase(u.today())
    # Destroy the key and close the person's accounts before the erasure is
    # recorded: once CandidateErased is visible, nothing of theirs is readable
    # and they cannot sign in. Both are idempotent (a retry, or an erasure
    # whose event failed to store, repeats them harmlessly).
    if u.app.person_keys is not None:
        u.app.person_keys.erase(u.app.tenant.id, candidate.id, u.actor.user_id)
    if u.accounts is not None:
        u.accounts.close_accounts_of(u.app.tenant.id, candidate.id)
    # A spreadsheet that brought the person in (or placed them) may be kept,
    # or still wait as a preview: its file and preview go too.
    if u.imported_files is not None:
        u.imported_files.forget_person(u.app.tenant, candidate.id)
    return changed(candidate)
