-- CreateTable
CREATE TABLE "stripe_price_snapshot" (
    "lookup_key" VARCHAR(200) NOT NULL,
    "price" JSONB NOT NULL,
    "fetched_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "stripe_price_snapshot_pkey" PRIMARY KEY ("lookup_key")
);
