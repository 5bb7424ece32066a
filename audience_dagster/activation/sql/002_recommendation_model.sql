-- The fitted recommendation model, kept between fits (activation/recommendations.py): a refresh
-- between two ticks of the training cadence recomputes only the profiles whose events changed,
-- with the model of the last fit. Items in the fit's order (`position`: ties break the same way
-- in every recomputation), each with the people who touched it (the popularity fallback), and
-- each item's nearest neighbours.
CREATE TABLE IF NOT EXISTS marts.recommendation_items (
    item_type text NOT NULL CHECK (item_type IN ('product', 'content')),
    position  integer NOT NULL,
    item_id   text NOT NULL,
    people    real NOT NULL,
    PRIMARY KEY (item_type, position)
);

CREATE TABLE IF NOT EXISTS marts.recommendation_neighbours (
    item_type   text NOT NULL CHECK (item_type IN ('product', 'content')),
    item        integer NOT NULL,
    neighbour   integer NOT NULL,
    similarity  real NOT NULL,
    PRIMARY KEY (item_type, item, neighbour)
);

-- one row: the clock the model was fitted as of
CREATE TABLE IF NOT EXISTS activation.recommendation_fit (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    fitted_as_of timestamptz NOT NULL,
    fitted_at    timestamptz NOT NULL DEFAULT now()
);
