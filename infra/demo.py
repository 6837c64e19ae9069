"""A demo tenant with realistic Dutch data, created once, through the service
layer like any other change (so its history is a real, auditable history)."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID

from domain.statement import reporting_periods
from infra.bootstrap import System
from infra.registry import Organisation, TenantNotFound, User
from service import commands as c
from service.actor import Actor

DEMO_SLUG = "demo"
DEMO_NAME = "Kansrijk Detachering B.V."
# A second agency that shares contracts with the same municipality and works
# with the same employer: the cross-agency pages have something to show.
PARTNER_SLUG = "werkpad"
PARTNER_NAME = "Werkpad Detachering B.V."
# Platform organisations (made-up identifiers of the right shape).
UTRECHT = ("Gemeente Utrecht", "00000001002220647000")  # name, OIN
DE_VRIES = ("Bouwbedrijf De Vries B.V.", "30274561")  # name, KvK
ACROSS = "across agencies"
CREDENTIALS_FILE = "demo-credentials.txt"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    token: str
    # Whose login: the agency (tenant) it works in, or ACROSS for an
    # organisation's user who sees what every agency shares with it.
    where: str = DEMO_NAME


def one_page_pdf(text: str, font_size: int = 14) -> bytes:
    """A one-page PDF saying `text` (the demo's documents, and the tests')."""
    stream = f"BT /F1 {font_size} Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
               b" /Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def _months_ago(today: date, months: int) -> date:
    return today - timedelta(days=round(months * 30.44))


def _exists(system: System, slug: str) -> bool:
    try:
        system.registry.tenant_by_slug(slug)
        return True
    except TenantNotFound:
        return False


def _organisation(system: System, kind: str, name: str, *, kvk: str | None = None,
                  oin: str | None = None) -> Organisation:
    """The platform organisation with this identifier, made if missing (an
    interrupted seed may have made it already)."""
    for org in system.registry.list_organisations(kind):
        if (org.kvk, org.oin) == (kvk, oin):
            return org
    return system.registry.create_organisation(kind, name, kvk=kvk, oin=oin)


def _login(system: System, user: User, password: str, where: str) -> DemoLogin:
    return DemoLogin(user.role, user.email, password, system.registry.issue_token(user), where)


def _org_login(system: System, org: Organisation, email: str) -> DemoLogin:
    password = "demo-" + secrets.token_urlsafe(9)
    user = system.registry.user_by_email(email)
    if user is None:
        user = system.registry.create_org_user(org.id, email, org.kind, password=password)
    else:  # left by an interrupted seed: a new password
        system.registry.set_password(email, password)
    return _login(system, user, password, f"{ACROSS}: {org.name}")


def seed_demo(system: System, today: date | None = None) -> list[DemoLogin] | None:
    """Create the demo tenants unless the demo exists; returns the logins it
    made (or None). Two agencies (DEMO_SLUG, PARTNER_SLUG) share contracts with
    one municipality and employer records with one employer: organisations of
    the platform, each with a user who signs in once and sees both agencies."""
    if _exists(system, DEMO_SLUG):
        return None
    today = today or date.today()
    utrecht_org = _organisation(system, "authority", UTRECHT[0], oin=UTRECHT[1])
    devries_org = _organisation(system, "employer", DE_VRIES[0], kvk=DE_VRIES[1])
    # Seeded under a temporary slug and renamed at the end, so a failed or
    # interrupted seed never leaves a half-filled "demo" tenant behind.
    tenant = system.registry.create_tenant(f"{DEMO_SLUG}-seeding-{secrets.token_hex(4)}", DEMO_NAME)
    ledger = system.ledger
    coach = Actor(user_id=UUID(int=1), role="agency", organisation=DEMO_SLUG)

    def run(cmd: object) -> UUID:
        result = ledger.execute(tenant, coach, cmd, correlation_id="demo-seed")
        return UUID(result.body["id"]) if "id" in result.body else UUID(int=0)

    de_vries = run(c.RegisterEmployer(name="Bouwbedrijf De Vries B.V.", org_id=devries_org.id))
    run(c.AddContactPerson(employer_id=de_vries, name="Marieke de Vries",
                           email="m.devries@bouwbedrijfdevries.nl", role="HR-manager"))
    hollandia = run(c.RegisterEmployer(name="Schoonmaakbedrijf Hollandia"))
    datapunt = run(c.RegisterEmployer(name="Datapunt Harlingen B.V."))
    run(c.AddContactPerson(employer_id=datapunt, name="Sjoerd Hoekstra",
                           email="s.hoekstra@datapunt-harlingen.nl", role="teamleider"))

    utrecht = run(c.RegisterContract(
        employer_id=de_vries, title="Onderhoud openbare ruimte Utrecht-Oost 2025-2027",
        contracting_authority="Gemeente Utrecht", contract_value_eur=Decimal("2400000"),
        obligation_percent=Decimal("5"), starts_on=_months_ago(today, 18),
        ends_on=_months_ago(today, -18), awarded_on=_months_ago(today, 20), rule_set="utrecht-2024",
        authority_org_id=utrecht_org.id))
    harlingen = run(c.RegisterContract(
        employer_id=datapunt, title="Digitalisering archief haven Harlingen",
        contracting_authority="Gemeente Harlingen", contract_value_eur=Decimal("850000"),
        obligation_percent=Decimal("5"), starts_on=_months_ago(today, 10),
        ends_on=_months_ago(today, -14), awarded_on=_months_ago(today, 11), rule_set="harlingen-2024"))
    schoonmaak = run(c.RegisterContract(
        employer_id=hollandia, title="Schoonmaak stadskantoor",
        contracting_authority="Gemeente Utrecht", contract_value_eur=Decimal("640000"),
        obligation_percent=Decimal("5"), starts_on=_months_ago(today, 6),
        ends_on=_months_ago(today, -30), awarded_on=_months_ago(today, 7), rule_set="utrecht-2024",
        authority_org_id=utrecht_org.id))

    people = [
        ("Sanne Bakker", date(1994, 4, 12), "doelgroepregister", ["data-analyse", "Python", "SQL"],
         "Ik ben doof. Bij overleggen werk ik met een tolk NGT; informatie ontvang ik graag schriftelijk.",
         None, False),
        ("Youssef El Amrani", date(1988, 9, 3), "participatiewet", ["administratie", "Excel", "Arabisch"],
         "Ik leer nog Nederlands; korte, duidelijke werkinstructies helpen mij.",
         _months_ago(today, 40), True),
        ("Pieter Visser", date(1969, 1, 22), "ww", ["uitvoering", "AutoCAD", "VCA"],
         "", _months_ago(today, 15), False),
        ("Lotte de Jong", date(1999, 11, 30), "wajong", ["archivering", "documentbeheer", "scannen"],
         "Ik ben autistisch. Een vaste werkplek, een vaste contactpersoon en vooraf een dagplanning.",
         None, False),
        ("Ahmed Yilmaz", date(2003, 6, 8), "bbl", ["schoonmaak", "klantcontact"],
         "", None, False),
        ("Joke Mulder", date(1975, 3, 17), "wia_wao", ["planning", "klantcontact", "Excel"],
         "Ik ben slechtziend: schermvergroting (ZoomText) en documenten in digitale vorm.",
         _months_ago(today, 30), False),
        ("Daan Smit", date(1996, 8, 25), "no_benefit", ["Python", "testen", "Linux"],
         "Ik werk het best in een rustige ruimte met een koptelefoon.", None, False),
        ("Fatima Ouali", date(1991, 2, 14), "vso_pro_mbo1", ["schoonmaak", "logistiek"],
         "", None, True),
    ]
    candidates = {}
    for name, born, group, competences, needs, since, holder in people:
        candidates[name] = run(c.RegisterCandidate(
            full_name=name, date_of_birth=born, target_group=group, competences=competences,
            support_needs=needs, benefit_since=since, status_holder=holder))

    def place(employer: UUID, contract: UUID, title: str, required: list[str], hours: str,
              who: str, months_ago: int, permanent: bool = False) -> UUID:
        vacancy = run(c.OpenVacancy(employer_id=employer, title=title, required_competences=required,
                                    optional_competences=[], hours_per_week=Decimal(hours),
                                    opened_on=_months_ago(today, months_ago) - timedelta(days=40 + 7 * len(title) % 30)))
        ledger.execute(tenant, coach, c.MatchCandidate(vacancy_id=vacancy, candidate_id=candidates[who]),
                       correlation_id="demo-seed")
        return run(c.StartPlacement(
            candidate_id=candidates[who], employer_id=employer, contract_id=contract,
            vacancy_id=vacancy, starts_on=_months_ago(today, months_ago),
            hours_per_week=Decimal(hours), permanent_contract=permanent))

    p1 = place(datapunt, harlingen, "Data-analist archief", ["data-analyse"], "32", "Sanne Bakker", 9)
    p2 = place(de_vries, utrecht, "Administratief medewerker projecten", ["administratie"], "24",
               "Youssef El Amrani", 16)
    p3 = place(de_vries, utrecht, "Werkvoorbereider", ["AutoCAD"], "36", "Pieter Visser", 13, True)
    p4 = place(datapunt, harlingen, "Medewerker documentbeheer", ["archivering"], "20", "Lotte de Jong", 7)
    p5 = place(hollandia, schoonmaak, "Schoonmaakmedewerker (BBL)", ["schoonmaak"], "28", "Ahmed Yilmaz", 5)
    place(de_vries, utrecht, "Planner", ["planning"], "30", "Joke Mulder", 11)
    # Vacancies still open, for matching.
    tester = run(c.OpenVacancy(employer_id=datapunt, title="Testautomatiseerder",
                               required_competences=["Python", "testen"], optional_competences=["Linux"],
                               hours_per_week=Decimal("32")))
    logistics = run(c.OpenVacancy(employer_id=hollandia, title="Medewerker logistiek",
                                  required_competences=["logistiek"], optional_competences=[],
                                  hours_per_week=Decimal("24")))

    employers = {p1: datapunt, p2: de_vries, p3: de_vries, p4: datapunt, p5: hollandia}
    placed = {p1: "Sanne Bakker", p5: "Ahmed Yilmaz"}
    for placement, score, role, comment in [
        (p1, 5, "employer", "Sanne heeft het archief-dashboard in twee maanden opgeleverd."),
        (p1, 4, "employee", "Fijn team; de tolk is bij elk teamoverleg geregeld."),
        (p1, 4, "coach", "Evaluatie na 3 maanden: doelen ruim gehaald."),
        (p2, 3, "employer", "Goede start; meer ondersteuning bij Nederlandstalige mails nodig."),
        (p3, 5, "employer", "Onmisbaar op de werkvoorbereiding."),
        (p4, 4, "coach", "Dagplanning werkt; vaste contactpersoon is afgesproken."),
        (p5, 3, "employee", "Het werk bevalt, de reistijd is lang."),
    ]:
        if role == "employer":
            actor = Actor(user_id=UUID(int=2), role="employer", organisation="demo-employer",
                          employer_id=employers[placement])
        elif role == "employee":
            actor = Actor(user_id=UUID(int=3), role="employee", organisation=DEMO_SLUG,
                          candidate_id=candidates[placed[placement]])
        else:
            actor = coach
        ledger.execute(tenant, actor, c.GiveFeedback(placement_id=placement, score=score,
                                                      from_role=role, comment=comment),
                       correlation_id="demo-seed")
    ledger.execute(tenant, coach, c.ChangeHours(placement_id=p2, hours_per_week=Decimal("28"),
                                                 effective_on=_months_ago(today, 8)),
                   correlation_id="demo-seed")
    ledger.execute(tenant, coach, c.EndPlacement(placement_id=p3, ends_on=_months_ago(today, 1),
                                                  reason="direct_employment"),
                   correlation_id="demo-seed")

    # The contracting authorities decide on what was reported.
    from domain.contribution import Contribution

    harlingen_official = Actor(user_id=UUID(int=4), role="authority", organisation="Gemeente Harlingen")
    utrecht_official = Actor(user_id=UUID(int=5), role="authority", organisation="Gemeente Utrecht")
    for actor, placement in [(harlingen_official, p1), (utrecht_official, p3), (utrecht_official, p2)]:
        ledger.execute(tenant, actor, c.AcceptContribution(
            contribution_id=Contribution.id_for_placement(placement), reason="Loonstroken en contract gezien",
            decided_on=_months_ago(today, 1)), correlation_id="demo-seed")
    purchase = run(c.ReportSocialEnterprisePurchase(
        contract_id=utrecht, supplier="Groenwerk Utrecht (sociale onderneming)",
        invoice_amount_eur_excl_vat=Decimal("18400.00"), register="registered_social_enterprise",
        invoice_date=_months_ago(today, 3), description="Groenonderhoud wijk Oost, factuur 2026-114"))
    # Evidence: the purchase's invoice, and Sanne's payslip (sealed under her key).
    run(c.AttachDocument(record_kind="contribution", record_id=purchase, kind="invoice",
                         filename="Factuur 2026-114 Groenwerk Utrecht.pdf",
                         content=one_page_pdf("Factuur 2026-114 Groenwerk Utrecht: groenonderhoud wijk Oost")))
    run(c.AttachDocument(record_kind="contribution", record_id=Contribution.id_for_placement(p1), kind="payslip",
                         filename="Loonstrook Sanne Bakker.pdf", content=one_page_pdf("Loonstrook (demo)")))
    ledger.execute(tenant, utrecht_official, c.AcceptContribution(
        contribution_id=purchase, reason="Factuur en registratie gecontroleerd"), correlation_id="demo-seed")
    training = run(c.ReportOtherActivity(
        contract_id=schoonmaak, description="Gastlessen schoonmaaktechniek op het Praktijkcollege",
        activity_date=_months_ago(today, 2), hours=Decimal("16")))
    ledger.execute(tenant, utrecht_official, c.RejectContribution(
        contribution_id=training, reason="Geen presentielijst bijgevoegd"), correlation_id="demo-seed")
    run(c.ReportOtherActivity(
        contract_id=schoonmaak, description="Werkervaringsdag voor leerlingen VSO De Brug",
        activity_date=_months_ago(today, 1), costs_eur=Decimal("1250.00")))

    # A period statement of the Utrecht contract's first year, prepared as a
    # draft for the agency to review and submit (docs/statements.md).
    first_start, first_end = reporting_periods(_months_ago(today, 18), _months_ago(today, -18), "year")[0]
    run(c.PrepareStatement(contract_id=utrecht, period_start=first_start, period_end=first_end))

    # Matching and the pipeline: stated availability, and matches at several steps.
    for who, hours, region in [("Daan Smit", "32", "Harlingen"), ("Fatima Ouali", "24", "Utrecht"),
                               ("Joke Mulder", "8", "Utrecht"), ("Pieter Visser", "36", "Amersfoort")]:
        run(c.StateAvailability(candidate_id=candidates[who], hours_per_week=Decimal(hours),
                                available_from=today - timedelta(days=14), region=region))
    for vacancy, who, steps in [
        (tester, "Daan Smit", [("proposed", 20), ("introduced", 9)]),
        (logistics, "Fatima Ouali", [("proposed", 30), ("introduced", 21), ("trial", 7)]),
        (logistics, "Pieter Visser", [("proposed", 30), ("declined", 25)]),
    ]:
        for step, days_ago in steps:
            extra = {"by": "candidate", "reason": "travel"} if step == "declined" else {}
            ledger.execute(tenant, coach, c.RecordMatchStep(vacancy_id=vacancy, candidate_id=candidates[who],
                                                            step=step, on=today - timedelta(days=days_ago),
                                                            **extra), correlation_id="demo-seed")
    # The legal employer's duties: Lotte de Jong is sick (dates only), the sick
    # report was made; Youssef was sick for a week earlier and recovered.
    ledger.execute(tenant, coach, c.ReportSickness(placement_id=p2, first_sick_day=_months_ago(today, 3)),
                   correlation_id="demo-seed")
    ledger.execute(tenant, coach, c.ReportRecovery(placement_id=p2, recovered_on=_months_ago(today, 3)
                                                   + timedelta(days=7)), correlation_id="demo-seed")
    sick = ledger.execute(tenant, coach, c.ReportSickness(placement_id=p4, first_sick_day=today - timedelta(days=12)),
                          correlation_id="demo-seed")
    report = next(d for d in sick.body["duties"] if d["kind"] == "sick_report")
    ledger.execute(tenant, coach, c.CompleteDuty(placement_id=p4, duty_id=UUID(report["id"]),
                                                 done_on=today - timedelta(days=12)), correlation_id="demo-seed")
    # Reminders of what comes due within a week or is overdue (the worker's hourly job).
    system.remind(None, today=today, tenants=[tenant])

    # Support that follows the person: what Sanne and Lotte stated became their
    # onboarding checklists; adjustments with their funders, check-ins and job
    # coaching; workshops for the employers' teams; contract owners and targets.
    def support(cmd: object, actor: Actor = coach) -> dict:
        return ledger.execute(tenant, actor, cmd, correlation_id="demo-seed").body

    def employer_of(employer: UUID) -> Actor:
        return Actor(user_id=UUID(int=2), role="employer", organisation="demo-employer", employer_id=employer)

    sanne_start, lotte_start = _months_ago(today, 9), _months_ago(today, 7)
    for item, on, actor in [("tools_ready", sanne_start - timedelta(days=2), employer_of(datapunt)),
                            ("team_informed", sanne_start - timedelta(days=5), employer_of(datapunt)),
                            ("contact_person", sanne_start - timedelta(days=5), employer_of(datapunt)),
                            ("first_check_in", sanne_start, coach), ("need-1", sanne_start - timedelta(days=10), coach)]:
        support(c.TickChecklistItem(placement_id=p1, item_id=item, done_on=on), actor)
    interpreter = support(c.RequestAdjustment(
        placement_id=p1, kind="interpreter", description="Tolk NGT bij teamoverleg en functioneringsgesprekken",
        funder="uwv", requested_on=sanne_start - timedelta(days=20)))["adjustment_id"]
    support(c.DeliverAdjustment(placement_id=p1, adjustment_id=interpreter, delivered_on=sanne_start))
    alarm = support(c.RequestAdjustment(
        placement_id=p1, kind="tool", description="Trilwekker en visuele melding van het brandalarm",
        requested_on=sanne_start - timedelta(days=20)))["adjustment_id"]
    support(c.SetAdjustmentFunder(placement_id=p1, adjustment_id=alarm, funder="employer"))
    support(c.DeliverAdjustment(placement_id=p1, adjustment_id=alarm, delivered_on=sanne_start + timedelta(days=9)),
            employer_of(datapunt))
    for days, whom, note in [(14, "employee_and_employer", "Eerste twee weken goed; tolk was bij elk overleg."),
                             (90, "employee", "Evaluatie: wil meer zelf presenteren, met tolk.")]:
        support(c.LogCheckIn(placement_id=p1, held_on=sanne_start + timedelta(days=days), with_whom=whom, note=note))
    for days_ago, hours in [(24, "1.5"), (17, "1.5"), (10, "1"), (3, "1.5")]:
        support(c.LogCoachingSession(placement_id=p1, held_on=today - timedelta(days=days_ago), hours=Decimal(hours),
                                     note="Voorbereiding presentatie, afspraken met de tolk."))
    for item, on in [("tools_ready", lotte_start), ("contact_person", lotte_start - timedelta(days=3))]:
        support(c.TickChecklistItem(placement_id=p4, item_id=item, done_on=on), employer_of(datapunt))
    support(c.RequestAdjustment(placement_id=p4, kind="workplace", description="Vaste werkplek in een rustige hoek",
                                funder="employer", requested_on=lotte_start - timedelta(days=7)))
    support(c.LogCheckIn(placement_id=p4, held_on=lotte_start + timedelta(days=7), with_whom="employee",
                         note="Dagplanning helpt; vaste contactpersoon is Sjoerd."))
    support(c.AddChecklistItem(placement_id=p2, label="Collega als taalmaatje voor Nederlandstalige mails",
                               responsible="employer"))
    for employer, kind, topic, months, people, by, title in [
        (datapunt, "workshop", "inclusive_leadership", 8, 12, "agency", "Samenwerken met een dove collega"),
        (datapunt, "training", "accessibility", 4, 6, "external", "Toegankelijke documenten maken"),
        (de_vries, "advice", "workplace_adjustments", 2, 2, "job_coach", "Werkplek en planning op de bouwplaats"),
    ]:
        support(c.LogEmployerSupportActivity(employer_id=employer, kind=kind, topic=topic,
                                             held_on=_months_ago(today, months), participants=people,
                                             given_by=by, title=title))
    support(c.NameContractOwner(contract_id=harlingen, side="employer", name="Sjoerd Hoekstra",
                                email="s.hoekstra@datapunt-harlingen.nl"))
    support(c.NameContractOwner(contract_id=harlingen, side="agency", name="Anouk Verbeek",
                                email="a.verbeek@kansrijk-detachering.nl"))
    support(c.SetContractTargets(contract_id=harlingen, target_placements=3,
                                 target_retention_12m_percent=Decimal("70")))
    support(c.SetContractTargets(contract_id=utrecht, target_placements=4,
                                 target_retention_12m_percent=Decimal("75")))

    logins = []
    for role, email, extra in [
        ("agency", "agency@demo.sroi.test", {}),
        ("employer", "employer@demo.sroi.test", {"employer_id": datapunt}),
        ("authority", "authority@demo.sroi.test", {"organisation": "Gemeente Harlingen"}),
        ("auditor", "auditor@demo.sroi.test", {}),
        ("employee", "employee@demo.sroi.test", {"candidate_id": candidates["Sanne Bakker"]}),
    ]:
        password = "demo-" + secrets.token_urlsafe(9)
        user = system.registry.create_user(tenant, email, role, password=password, **extra)
        logins.append(_login(system, user, password, DEMO_NAME))
    if not _exists(system, PARTNER_SLUG):
        logins += _seed_partner(system, today, utrecht_org, devries_org)
    logins.append(_org_login(system, utrecht_org, "utrecht@demo.sroi.test"))
    logins.append(_org_login(system, devries_org, "devries@demo.sroi.test"))
    # Renamed last: a seed interrupted before this is made again on the next run.
    system.registry.rename_tenant(tenant.slug, DEMO_SLUG)
    _write_credentials(system.settings.data_dir / CREDENTIALS_FILE, logins)
    return logins


def _write_credentials(path: Path, logins: list[DemoLogin]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# Demo logins (development only). agency or organisation, role, email, password, API token"]
    lines += [f"{l.where}\t{l.role}\t{l.email}\t{l.password}\t{l.token}" for l in logins]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(lines) + "\n")


def read_credentials(data_dir: Path) -> str | None:
    path = data_dir / CREDENTIALS_FILE
    return path.read_text() if path.exists() else None


def _seed_partner(system: System, today: date, utrecht_org: Organisation,
                  devries_org: Organisation) -> list[DemoLogin]:
    """The second agency: its own employers, candidates and placements; two
    contracts with Gemeente Utrecht shared with the municipality's organisation,
    and its own record of Bouwbedrijf De Vries shared with the employer's."""
    tenant = system.registry.create_tenant(f"{PARTNER_SLUG}-seeding-{secrets.token_hex(4)}", PARTNER_NAME)
    ledger = system.ledger
    coach = Actor(user_id=UUID(int=11), role="agency", organisation=PARTNER_SLUG)

    def run(cmd: object, actor: Actor = coach) -> UUID:
        result = ledger.execute(tenant, actor, cmd, correlation_id="demo-seed")
        return UUID(result.body["id"]) if "id" in result.body else UUID(int=0)

    de_vries = run(c.RegisterEmployer(name=DE_VRIES[0], org_id=devries_org.id))
    run(c.AddContactPerson(employer_id=de_vries, name="Ruud Bosman", email="r.bosman@bouwbedrijfdevries.nl",
                           role="uitvoerder"))
    vechtstreek = run(c.RegisterEmployer(name="Groenbeheer Vechtstreek B.V."))
    vredenburg = run(c.RegisterContract(
        employer_id=de_vries, title="Herinrichting Vredenburgplein fase 2",
        contracting_authority=UTRECHT[0], contract_value_eur=Decimal("1850000"),
        obligation_percent=Decimal("5"), starts_on=_months_ago(today, 12),
        ends_on=_months_ago(today, -12), awarded_on=_months_ago(today, 14), rule_set="utrecht-2024",
        authority_org_id=utrecht_org.id))
    parks = run(c.RegisterContract(
        employer_id=vechtstreek, title="Groenonderhoud parken Utrecht-West",
        contracting_authority=UTRECHT[0], contract_value_eur=Decimal("720000"),
        obligation_percent=Decimal("5"), starts_on=_months_ago(today, 8),
        ends_on=_months_ago(today, -28), awarded_on=_months_ago(today, 9), rule_set="utrecht-2024",
        authority_org_id=utrecht_org.id))
    # Not shared with Utrecht: another municipality's contract.
    quays = run(c.RegisterContract(
        employer_id=vechtstreek, title="Beplanting kaden Harlingen",
        contracting_authority="Gemeente Harlingen", contract_value_eur=Decimal("310000"),
        obligation_percent=Decimal("5"), starts_on=_months_ago(today, 5),
        ends_on=_months_ago(today, -19), awarded_on=_months_ago(today, 6), rule_set="harlingen-2024"))

    candidates = {}
    for name, born, group, competences in [
        ("Kevin Jansen", date(1997, 5, 19), "participatiewet", ["grondwerk", "VCA", "bestrating"]),
        ("Noor Hendriks", date(2001, 10, 2), "wajong", ["groenonderhoud", "snoeien"]),
        ("Mehmet Kaya", date(1983, 12, 11), "ww", ["machinist", "VCA"]),
        ("Iris van Dijk", date(1992, 7, 27), "doelgroepregister", ["planten", "logistiek"]),
    ]:
        candidates[name] = run(c.RegisterCandidate(
            full_name=name, date_of_birth=born, target_group=group, competences=competences,
            support_needs="", benefit_since=None, status_holder=False))

    def place(employer: UUID, contract: UUID, title: str, required: list[str], hours: str,
              who: str, months_ago: int) -> UUID:
        vacancy = run(c.OpenVacancy(employer_id=employer, title=title, required_competences=required,
                                    optional_competences=[], hours_per_week=Decimal(hours),
                                    opened_on=_months_ago(today, months_ago) - timedelta(days=30)))
        run(c.MatchCandidate(vacancy_id=vacancy, candidate_id=candidates[who]))
        return run(c.StartPlacement(
            candidate_id=candidates[who], employer_id=employer, contract_id=contract, vacancy_id=vacancy,
            starts_on=_months_ago(today, months_ago), hours_per_week=Decimal(hours), permanent_contract=False))

    kevin = place(de_vries, vredenburg, "Stratenmaker in opleiding", ["grondwerk"], "32", "Kevin Jansen", 10)
    place(de_vries, vredenburg, "Machinist graafmachine", ["machinist"], "36", "Mehmet Kaya", 6)
    place(vechtstreek, parks, "Medewerker groenonderhoud", ["groenonderhoud"], "24", "Noor Hendriks", 7)
    place(vechtstreek, quays, "Medewerker beplanting", ["planten"], "20", "Iris van Dijk", 4)
    run(c.ReportSocialEnterprisePurchase(
        contract_id=parks, supplier="Kringloop Groen Utrecht (sociale onderneming)",
        invoice_amount_eur_excl_vat=Decimal("9600.00"), register="registered_social_enterprise",
        invoice_date=_months_ago(today, 2), description="Snoeiwerk Park Transwijk, factuur 2026-031"))
    # The municipality's own officer decides across agencies: one decision here too.
    from domain.contribution import Contribution

    officer = Actor(user_id=UUID(int=12), role="authority", organisation=UTRECHT[0], org_id=utrecht_org.id)
    run(c.AcceptContribution(contribution_id=Contribution.id_for_placement(kevin),
                             reason="Arbeidsovereenkomst en loonstroken gezien",
                             decided_on=_months_ago(today, 1)), officer)

    password = "demo-" + secrets.token_urlsafe(9)
    user = system.registry.create_user(tenant, "agency@werkpad.sroi.test", "agency", password=password)
    logins = [_login(system, user, password, PARTNER_NAME)]
    system.registry.rename_tenant(tenant.slug, PARTNER_SLUG)
    return logins
