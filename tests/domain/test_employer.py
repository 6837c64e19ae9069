from uuid import uuid4

import pytest

from domain import Employer, InvalidValue
from tests.domain.builders import an_employer, event_names


def test_an_employer_is_registered_with_a_name():
    employer = an_employer(name="  Bouwbedrijf De Vries ")
    assert employer.name == "Bouwbedrijf De Vries"
    assert employer.contact_persons == []
    assert event_names(employer) == ["EmployerRegistered"]


def test_an_employer_needs_a_name():
    with pytest.raises(InvalidValue) as err:
        Employer.register("")
    assert err.value.field == "name"


def test_a_contact_person_is_added_with_optional_phone_and_role():
    employer = an_employer()
    employer.add_contact_person("Piet de Vries", "piet@devries.nl", role="HR")
    assert employer.contact_persons == [
        {
            "name": "Piet de Vries",
            "email": "piet@devries.nl",
            "phone": None,
            "role": "HR",
        }
    ]
    assert event_names(employer)[-1] == "ContactPersonAdded"


@pytest.mark.parametrize(
    "email", ["piet", "piet@devries", "@devries.nl", "piet@@devries.nl", "p iet@x.nl"]
)
def test_a_contact_person_needs_a_plausible_email_address(email):
    with pytest.raises(InvalidValue) as err:
        an_employer().add_contact_person("Piet", email)
    assert err.value.field == "email"


def test_a_contact_person_needs_a_name():
    with pytest.raises(InvalidValue) as err:
        an_employer().add_contact_person(" ", "piet@devries.nl")
    assert err.value.field == "name"


def test_contact_persons_are_classified_as_personal_data():
    assert set(Employer.DATA_CLASSIFICATION) == {
        "contact_persons.name",
        "contact_persons.email",
        "contact_persons.phone",
    }
    assert set(Employer.DATA_CLASSIFICATION.values()) == {"personal"}


def test_an_employer_record_is_unlinked_from_its_organisation():
    employer = an_employer()
    employer.unlink_organisation()  # not linked: nothing
    org = uuid4()
    employer.link_organisation(org, "De Vries B.V.")
    employer.unlink_organisation()
    assert (employer.org_id, employer.org_name) == (None, None)
    assert event_names(employer)[-2:] == ["EmployerOrganisationLinked", "EmployerOrganisationUnlinked"]
