import json
def test_scratch(org, client):
    ids = org.seed()
    p = ids["placement"]
    for path, body in [
        (f"/placements/{p}/feedback", "{bad json"),
        (f"/placements/{p}/feedback", {"score": "five", "from_role": "agency"}),
        (f"/placements/{p}/feedback", {"score": "5", "from_role": "agency"}),
        (f"/placements/{p}/hours", {"hours_per_week": True, "effective_on": "2025-03-01"}),
        (f"/placements/{p}/hours", {"hours_per_week": 1.5, "effective_on": "2025-13-01"}),
        (f"/placements/{p}/hours", {"effective_on": "2025-03-01"}),
        (f"/placements/{p}/hours", {"hours_per_week": 3, "effective_on": "2025-03-01", "x": 1}),
        (f"/placements/{p}/hours", [1,2]),
        (f"/placements/{p}/hours", {"hours_per_week": "x"*70000, "effective_on": "2025-03-01"}),
        ("/placements/not-a-uuid/hours", {"hours_per_week": 3, "effective_on": "2025-03-01"}),
    ]:
        if isinstance(body, str):
            r = client.post("/api/v1" + path, content=body, headers={"Authorization": "Bearer " + org.agency_token, "content-type": "application/json"})
        else:
            r = org.post(path, body)
        print(path, str(body)[:80], r.status_code, r.text[:300], dict(r.headers))
    print(org.get(f"/placements/{p}/events").text[:1500])
    print(client.get("/ready").text, client.get("/health").text)
    print(org.event_count())
    assert 0
