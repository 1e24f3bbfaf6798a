"""Practice areas named in a passage: what following.py compares beside meaning, look-alikes kept apart."""

from indexer.practice_areas import AREAS, JUDGEMENTS, areas, judgements, rarity


def test_look_alike_areas_are_kept_apart():
    assert "missing from home or care" in areas("Return home interviews are offered to children who go missing.")
    assert "missing from home or care" not in areas("Children missing education are tracked by the virtual school.")
    assert "missing education" in areas("Children missing education are tracked by the virtual school.")
    lado = areas("The local authority designated officer (LADO) records allegations well.")
    assert "allegations (LADO)" in lado and "supervision" not in lado
    assert "pathway plans" in areas("Pathway plans for care leavers are up to date.")
    assert "pathway plans" not in areas("Personal education plans are of good quality.")
    assert "education" in areas("Personal education plans are of good quality.")
    assert "independent reviewing officers" in areas("IROs challenge drift in children's plans.")
    assert "independent reviewing officers" not in areas("Managers challenge drift in supervision.")


def test_a_passage_names_every_area_it_speaks_of_and_nothing_else():
    found = areas("Supervision is regular, and management oversight of private fostering assessments is strong.")
    assert {"supervision", "oversight", "private fostering", "assessment"} <= found
    assert "fostering" in found  # "private fostering" is fostering in the words, told apart by its own area
    assert areas("The weather was fine.") == frozenset()
    assert "adoption" not in areas("Leaders adopted a new practice model.")
    assert "adoption" not in areas("The local authority is an early adopter of the Early Career Framework.")
    assert "adoption" in areas("Adopters are well supported.")
    assert "missing from home or care" not in areas("Children missing from education are tracked.")


def test_an_areas_judgement_is_the_one_that_grades_it():
    assert judgements("The quality of pathway plans for care leavers.") == ("care leavers",)
    assert set(judgements("Management oversight of child protection enquiries.")) == {"leaders", "help and protection"}
    assert judgements("Supervision, audit and workforce stability, and child protection plans.")[0] == "leaders"
    assert judgements("The weather was fine.") == ()
    assert set(JUDGEMENTS) == {"care leavers", "children in care", "help and protection", "leaders"}


def test_a_rare_area_weighs_more_than_a_common_one():
    texts = ["Plans are reviewed regularly.", "Planning is timely.", "Plans are clear and care leavers' plans too.",
             "Care leavers receive their health histories."]
    weights = rarity(texts)
    assert set(weights) == set(AREAS)
    assert weights["health histories"] > weights["care leavers"] > weights["planning"]
    assert weights["young carers"] == max(weights.values())  # named nowhere: the rarest
