-- Find a user's video by the provider's id (video extend, lip sync).
CREATE INDEX asset_user_provider_idx ON asset (user_id, provider_id);
