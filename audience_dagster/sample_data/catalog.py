"""The simulated store: product catalogue, content, site pages and marketing campaigns.

Built once per seed (identically in every worker) from its own random stream. Strings that
go into JSON are serialised here, once, so the per-message serialisers only concatenate.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import orjson

from audience_dagster.sample_data.encode import uuid4

STORE_NAME = "Harbor & Pine"
SITE = "https://shop.harborandpine.com"
BLOG_SITE = SITE

CATEGORIES = ("electronics", "fashion", "home", "beauty", "sports", "books", "outdoors")
INTERESTS = (*CATEGORIES, "premium", "discount")
PREMIUM_INTEREST = len(CATEGORIES)
DISCOUNT_INTEREST = len(CATEGORIES) + 1

# page kinds
HOME, CATEGORY, PREMIUM, SALE, PRODUCT, BLOG, CART, CHECKOUT = range(8)
PAGE_NAMES = (
    "Home",
    "Category",
    "Collection",
    "Collection",
    "Product",
    "Article",
    "Cart",
    "Checkout",
)
SCREEN_NAMES = (
    "Home",
    "Category",
    "Premium Collection",
    "Sale",
    "Product Detail",
    "Article",
    "Cart",
    "Checkout",
)

_MEDIAN_PRICE_CENTS = (12_000, 4_500, 4_000, 2_200, 5_000, 1_600, 7_000)
_NOUNS = (
    "Headphones Speaker Charger Earbuds Smartwatch Keyboard Webcam Tablet Monitor Router Power-Bank Drone",
    "Jacket Sneakers Dress Scarf Jeans Hoodie Blazer Boots Tote Sunglasses Sweater Cap",
    "Lamp Throw Vase Candle Cookware-Set Knife-Block Rug Pillow Planter Clock Mirror Kettle",
    "Serum Moisturizer Cleanser Lip-Balm Face-Mask Perfume Shampoo Hand-Cream Eye-Cream Body-Oil Palette Toner",
    "Yoga-Mat Dumbbells Running-Shorts Water-Bottle Resistance-Bands Tennis-Racket "
    "Cycling-Gloves Jump-Rope Foam-Roller Gym-Bag Kettlebell Sports-Bra",
    "Cookbook Novel Field-Guide Journal Atlas Memoir Poetry-Collection Travel-Guide "
    "Art-Book Planner Puzzle-Book Biography",
    "Tent Backpack Sleeping-Bag Headlamp Trekking-Poles Camp-Stove Hammock Rain-Shell "
    "Trail-Shoes Cooler Compass Fleece",
)
_ADJECTIVE_TEXT = (
    "Classic Everyday Essential Compact Premium Organic Vintage Modern Ultralight Signature "
    "Heritage Coastal Nordic Urban Alpine Studio Travel Weekend Merino Recycled"
)
_ADJECTIVES = tuple(_ADJECTIVE_TEXT.split())
_VENDORS = (
    ("Voltline", "Sonara", "Keystone Labs"),
    ("Ardent & Co", "Fieldhouse", "Loom Theory"),
    ("Hearth Goods", "Kiln Street", "Nestwell"),
    ("Glow Theory", "Petal & Pine", "Lumina"),
    ("Stride Athletic", "Corefit", "Apex Motion"),
    ("Marginalia Press", "Northlight Books"),
    ("Summit Supply", "Backcountry Forge", "Tideline"),
)
_ARTICLE_TOPICS = (
    ("How to choose {x}", "The best {x} of the year", "{x}: a buyer's guide"),
    ("Styling {x} for autumn", "Capsule wardrobe: {x}", "What to wear with {x}"),
    ("Small-space ideas: {x}", "Hosting at home with {x}", "Care guide: {x}"),
    ("A simple routine with {x}", "Ingredients explained: {x}", "Is {x} worth it?"),
    ("Training plan: {x}", "Beginner's guide to {x}", "Recovery tips with {x}"),
    ("Reading list: {x}", "Book club picks: {x}", "Why we love {x}"),
    ("Weekend trip checklist: {x}", "Trail-tested: {x}", "Packing light with {x}"),
)
UTM_CAMPAIGNS = (
    # name, source, medium, term, content, referrer
    ("brand_search", "google", "cpc", "harbor and pine", "text_ad_1", "https://www.google.com/"),
    ("generic_search", "google", "cpc", "gift ideas", "text_ad_2", "https://www.google.com/"),
    ("spring_sale", "facebook", "paid_social", "", "carousel_a", "https://l.facebook.com/"),
    ("lookalikes", "facebook", "paid_social", "", "video_15s", "https://l.facebook.com/"),
    ("creator_collab", "instagram", "social", "", "story_swipe", "https://l.instagram.com/"),
    ("weekly_picks", "newsletter", "email", "", "hero_button", ""),
    ("win_back", "newsletter", "email", "", "product_grid", ""),
    ("trending", "tiktok", "paid_social", "", "spark_ad", "https://www.tiktok.com/"),
    ("shopping_feed", "google", "shopping", "", "pla", "https://www.google.com/"),
    ("partner_deals", "affiliate", "referral", "", "deal_page", "https://www.dealnews.com/"),
    ("bing_brand", "bing", "cpc", "harbor pine store", "text_ad_1", "https://www.bing.com/"),
    ("pinterest_home", "pinterest", "paid_social", "", "pin_1", "https://www.pinterest.com/"),
)
ORGANIC_REFERRERS = (
    "",
    "",
    "",
    "https://www.google.com/",
    "https://www.google.com/",
    "https://duckduckgo.com/",
    "https://www.bing.com/",
    "https://www.reddit.com/",
)
SEARCH_QUERIES = (
    ("wireless headphones", "usb c charger", "smart watch"),
    ("rain jacket", "white sneakers", "wool scarf"),
    ("table lamp", "linen pillow", "ceramic vase"),
    ("vitamin c serum", "sunscreen", "lip balm"),
    ("yoga mat", "running shorts", "water bottle"),
    ("cookbook", "mystery novel", "planner 2026"),
    ("2 person tent", "hiking backpack", "headlamp"),
)


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


@dataclass(frozen=True)
class Catalog:
    # products
    product_category: np.ndarray  # int
    product_price_cents: np.ndarray  # int64
    product_premium: np.ndarray  # bool
    product_sale: np.ndarray  # bool
    product_id: np.ndarray  # int64 (Shopify product id)
    variant_id: np.ndarray  # int64
    product_title: tuple[str, ...]
    product_sku: tuple[str, ...]
    product_vendor: tuple[str, ...]
    product_slug: tuple[str, ...]
    product_json: np.ndarray  # object: '{"product_id":…,"price":…' (no closing brace)
    by_category_price: tuple[np.ndarray, ...]  # product indices per category, by price
    by_category_popularity: tuple[np.ndarray, ...]
    premium_by_category: tuple[np.ndarray, ...]
    sale_by_category: tuple[np.ndarray, ...]
    # content
    article_category: np.ndarray
    article_json: np.ndarray  # '{"content_id":…,"title":…,"category":…}'
    video_json: np.ndarray
    download_json: np.ndarray  # one per category
    articles_by_category: tuple[np.ndarray, ...]
    # site pages (targets): one row per distinct page
    page_kind: np.ndarray
    page_path: np.ndarray  # object
    page_title_json: np.ndarray  # object: JSON string of the title
    page_name: np.ndarray  # object: Segment page name / screen name json fragments
    screen_props: np.ndarray  # object: JSON object for screen calls
    page_ref: np.ndarray  # product / article / category index behind the page, or -1
    first_category_page: int
    first_product_page: int
    first_article_page: int
    # marketing
    utm_campaign_json: tuple[str, ...]
    utm_search: tuple[str, ...]
    utm_referrer: tuple[str, ...]
    search_query_json: tuple[tuple[str, ...], ...]

    @property
    def products(self) -> int:
        return self.product_category.size


@lru_cache(maxsize=4)
def build_catalog(seed: int, products_per_category: int = 350, articles_per_category: int = 50) -> Catalog:
    """The store of a simulation; the same for every chunk of one seed."""
    rng = np.random.default_rng([seed, 0xC0FFEE])
    products = _products(rng, products_per_category)
    content, article_titles, article_slugs = _content(rng, articles_per_category)
    return Catalog(**products, **content, **_pages(products, content, article_titles, article_slugs), **_campaigns())


def _products(rng: np.random.Generator, products_per_category: int) -> dict[str, Any]:
    """The products: category, price, premium and sale flags, ids, titles, JSON, orderings."""
    n_cat = len(CATEGORIES)
    category = np.repeat(np.arange(n_cat), products_per_category)
    n = category.size
    median = np.asarray(_MEDIAN_PRICE_CENTS, dtype=np.float64)[category]
    price = np.maximum(299, (median * rng.lognormal(0.0, 0.6, n)).round(-2) - 1).astype(np.int64)
    premium = np.zeros(n, dtype=bool)
    for c in range(n_cat):
        members = np.flatnonzero(category == c)
        premium[members] = price[members] >= np.quantile(price[members], 0.88)
    sale = rng.random(n) < 0.1
    nouns = [s.split() for s in _NOUNS]
    titles, skus, vendors, slugs = [], [], [], []
    adjective = rng.integers(0, len(_ADJECTIVES), n).tolist()
    noun = rng.integers(0, 12, n).tolist()
    vendor_pick = rng.integers(0, 3, n).tolist()
    for i, (c, a, k, v) in enumerate(zip(category.tolist(), adjective, noun, vendor_pick, strict=True)):
        title = f"{_ADJECTIVES[a]} {nouns[c][k % len(nouns[c])].replace('-', ' ')}"
        titles.append(title)
        skus.append(f"{CATEGORIES[c][:3].upper()}-{i:05d}")
        vendors.append(_VENDORS[c][v % len(_VENDORS[c])])
        slugs.append(f"{_slug(title)}-{i}")
    product_id = 8_104_000_000_000 + np.arange(n, dtype=np.int64) * 173
    variant_id = 45_210_000_000_000 + np.arange(n, dtype=np.int64) * 311
    product_json = np.array(
        [
            f'{{"product_id":"{pid}","sku":"{sku}","category":"{CATEGORIES[c]}",'
            f'"name":{_json(t)},"price":{p // 100}.{p % 100:02d}'
            for pid, sku, c, t, p in zip(
                product_id.tolist(), skus, category.tolist(), titles, price.tolist(), strict=True
            )
        ],
        dtype=object,
    )
    by_price = tuple(
        np.flatnonzero(category == c)[np.argsort(price[category == c], kind="stable")] for c in range(n_cat)
    )
    by_popularity = tuple(rng.permutation(np.flatnonzero(category == c)) for c in range(n_cat))
    premium_by = tuple(np.flatnonzero((category == c) & premium) for c in range(n_cat))
    sale_by = tuple(np.flatnonzero((category == c) & sale) for c in range(n_cat))

    return {
        "product_category": category,
        "product_price_cents": price,
        "product_premium": premium,
        "product_sale": sale,
        "product_id": product_id,
        "variant_id": variant_id,
        "product_title": tuple(titles),
        "product_sku": tuple(skus),
        "product_vendor": tuple(vendors),
        "product_slug": tuple(slugs),
        "product_json": product_json,
        "by_category_price": by_price,
        "by_category_popularity": by_popularity,
        "premium_by_category": premium_by,
        "sale_by_category": sale_by,
    }


def _content(rng: np.random.Generator, articles_per_category: int) -> tuple[dict[str, Any], list[str], list[str]]:
    """Articles (some with a video) and one downloadable guide per category; their titles and slugs."""
    n_cat = len(CATEGORIES)
    nouns = [s.split() for s in _NOUNS]
    art_cat = np.repeat(np.arange(n_cat), articles_per_category)
    n_art = art_cat.size
    art_ids = uuid4(rng, n_art)
    vid_ids = uuid4(rng, n_art)
    dl_ids = uuid4(rng, n_cat)
    topic = rng.integers(0, 3, n_art).tolist()
    subject = rng.integers(0, 12, n_art).tolist()
    art_titles = [
        _ARTICLE_TOPICS[c][t].format(x=nouns[c][s].replace("-", " ").lower() + "s")
        for c, t, s in zip(art_cat.tolist(), topic, subject, strict=True)
    ]
    art_titles = [t[0].upper() + t[1:] for t in art_titles]
    art_slugs = [f"{_slug(t)}-{i}" for i, t in enumerate(art_titles)]
    article_json = np.array(
        [
            f'{{"content_id":"{a}","title":{_json(t)},"category":"{CATEGORIES[c]}"}}'
            for a, t, c in zip(art_ids, art_titles, art_cat.tolist(), strict=True)
        ],
        dtype=object,
    )
    video_json = np.array(
        [
            f'{{"content_id":"{v}","title":{_json("Video: " + t)},"category":"{CATEGORIES[c]}"}}'
            for v, t, c in zip(vid_ids, art_titles, art_cat.tolist(), strict=True)
        ],
        dtype=object,
    )
    download_json = np.array(
        [
            f'{{"content_id":"{d}","title":"{CATEGORIES[c].capitalize()} buying guide (PDF)",'
            f'"category":"{CATEGORIES[c]}"}}'
            for c, d in enumerate(dl_ids)
        ],
        dtype=object,
    )

    fields = {
        "article_category": art_cat,
        "article_json": article_json,
        "video_json": video_json,
        "download_json": download_json,
        "articles_by_category": tuple(np.flatnonzero(art_cat == c) for c in range(n_cat)),
    }
    return fields, art_titles, art_slugs


def _pages(
    products: dict[str, Any], content: dict[str, Any], art_titles: list[str], art_slugs: list[str]
) -> dict[str, Any]:
    """Every page of the site (home, categories, collections, products, articles, cart, checkout)."""
    titles, slugs, product_json = products["product_title"], products["product_slug"], products["product_json"]
    n, n_art = len(titles), len(art_titles)
    article_json = content["article_json"]
    kinds: list[int] = [HOME]
    paths: list[str] = ["/"]
    titles_p: list[str] = [f"{STORE_NAME} | Everyday goods, well made"]
    refs: list[int] = [-1]
    for c, name in enumerate(CATEGORIES):
        kinds.append(CATEGORY)
        paths.append(f"/c/{name}")
        titles_p.append(f"{name.capitalize()} | {STORE_NAME}")
        refs.append(c)
    kinds += [PREMIUM, SALE]
    paths += ["/collections/premium", "/collections/sale"]
    titles_p += [f"Premium collection | {STORE_NAME}", f"Sale | {STORE_NAME}"]
    refs += [-1, -1]
    first_product_page = len(kinds)
    for i in range(n):
        kinds.append(PRODUCT)
        paths.append(f"/p/{slugs[i]}")
        titles_p.append(f"{titles[i]} | {STORE_NAME}")
        refs.append(i)
    first_article_page = len(kinds)
    for i in range(n_art):
        kinds.append(BLOG)
        paths.append(f"/blog/{art_slugs[i]}")
        titles_p.append(f"{art_titles[i]} | {STORE_NAME} Journal")
        refs.append(i)
    kinds += [CART, CHECKOUT]
    paths += ["/cart", "/checkout"]
    titles_p += [f"Your cart | {STORE_NAME}", f"Checkout | {STORE_NAME}"]
    refs += [-1, -1]
    page_kind = np.asarray(kinds, dtype=np.int8)
    screen_props = []
    for k, r in zip(kinds, refs, strict=True):
        if k == PRODUCT:
            screen_props.append(product_json[r] + "}")
        elif k == BLOG:
            screen_props.append(article_json[r])
        elif k == CATEGORY:
            screen_props.append(f'{{"category":"{CATEGORIES[r]}"}}')
        else:
            screen_props.append("{}")

    return {
        "page_kind": page_kind,
        "page_path": np.asarray(paths, dtype=object),
        "page_title_json": np.asarray([_json(t) for t in titles_p], dtype=object),
        "page_name": np.asarray([PAGE_NAMES[k] for k in kinds], dtype=object),
        "screen_props": np.asarray(screen_props, dtype=object),
        "page_ref": np.asarray(refs, dtype=np.int64),
        "first_category_page": 1,
        "first_product_page": first_product_page,
        "first_article_page": first_article_page,
    }


def _campaigns() -> dict[str, Any]:
    """The UTM campaigns (JSON, query string, referrer) and the search queries per category."""
    utm_json, utm_search, utm_ref = [], [], []
    for name, source, medium, term, content, referrer in UTM_CAMPAIGNS:
        utm_json.append(_json({"name": name, "source": source, "medium": medium, "term": term, "content": content}))
        query = f"?utm_source={source}&utm_medium={medium}&utm_campaign={name}"
        if term:
            query += "&utm_term=" + term.replace(" ", "+")
        utm_search.append(query + f"&utm_content={content}")
        utm_ref.append(referrer)

    return {
        "utm_campaign_json": tuple(utm_json),
        "utm_search": tuple(utm_search),
        "utm_referrer": tuple(utm_ref),
        "search_query_json": tuple(tuple(_json(q) for q in qs) for qs in SEARCH_QUERIES),
    }


def page_of_kind(catalog: Catalog, kind: int) -> int:
    """Row of the single page of a kind (home, premium, sale, cart, checkout)."""
    return int(np.flatnonzero(catalog.page_kind == kind)[0])
