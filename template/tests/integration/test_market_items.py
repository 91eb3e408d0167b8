from uuid import uuid4

import httpx
import pytest


async def create(client: httpx.AsyncClient, title: str, price: str) -> httpx.Response:
    return await client.post("/api/v1/market/items", json={"title": title, "price": price})


async def test_item_round_trip_through_postgresql(client: httpx.AsyncClient) -> None:
    created = await create(client, "  Vintage lamp  ", "19.90")
    assert created.status_code == 201
    item = created.json()
    assert item["title"] == "Vintage lamp"
    assert item["price"] == "19.90"  # money travels as a decimal string, never a float

    fetched = await client.get(f"/api/v1/market/items/{item['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == item

    listed = await client.get("/api/v1/market/items", params={"limit": 100})
    assert item in listed.json()["items"]


async def test_items_are_listed_newest_first_with_paging(client: httpx.AsyncClient) -> None:
    ids = [(await create(client, f"paging {n}", "1.00")).json()["id"] for n in range(3)]

    first = (await client.get("/api/v1/market/items", params={"limit": 2})).json()
    second = (await client.get("/api/v1/market/items", params={"limit": 2, "offset": 2})).json()

    assert [item["id"] for item in first["items"]] == ids[::-1][:2]
    assert second["items"][0]["id"] == ids[0]
    assert (first["limit"], second["offset"]) == (2, 2)


async def test_unknown_item_is_a_404_in_the_error_shape(client: httpx.AsyncClient) -> None:
    missing = uuid4()
    response = await client.get(f"/api/v1/market/items/{missing}")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert str(missing) in error["message"]
    assert error["request_id"] == response.headers["X-Request-ID"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "lamp", "price": "-1"}, "price"),
        ({"title": "lamp", "price": "1.999"}, "price"),
        ({"title": "lamp", "price": "not a number"}, "price"),
        ({"title": "lamp", "price": 19.99}, "price"),
        ({"title": "lamp", "price": ""}, "price"),
        ({"title": "", "price": "1"}, "title"),
        ({"title": "x" * 201, "price": "1"}, "title"),
        ({"title": "nul\u0000byte", "price": "1"}, "title"),
        ({"title": 42, "price": "1"}, "title"),
        ({"title": "lamp", "price": "1", "owner": "me"}, "owner"),
        ({"price": "1"}, "title"),
    ],
)
async def test_invalid_item_is_a_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    response = await client.post("/api/v1/market/items", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in {str(part) for problem in error["fields"] for part in problem["location"]}


async def test_malformed_json_is_a_422_not_a_500(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/market/items",
        content=b'{"title": "lamp", "price": ',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/market/items/not-a-uuid",
        "/api/v1/market/items?limit=0",
        "/api/v1/market/items?limit=101",
        "/api/v1/market/items?offset=-1",
    ],
)
async def test_invalid_path_or_query_is_a_422(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_item_metrics_use_the_route_template(client: httpx.AsyncClient) -> None:
    await client.get(f"/api/v1/market/items/{uuid4()}")
    exposition = (await client.get("/metrics")).text
    assert 'route="/api/v1/market/items/{item_id}",status="404"' in exposition
