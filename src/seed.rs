pub async fn seed(_db: &sea_orm::DatabaseConnection, _n: usize, _s: u64) -> anyhow::Result<()> {
    Ok(())
}
