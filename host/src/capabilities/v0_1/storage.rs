//! `qun:app/storage@0.1.0` onto 0.2 (the same interface).

use super::generated::qun::app::storage::{Entry, EntryPage, Host};
use super::{error, wit_types};
use crate::capabilities::generated::qun::app::storage::Host as V2;
use crate::runtime::InvocationState;

impl Host for InvocationState {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, wit_types::Error> {
        V2::get(self, key).await.map_err(error)
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), wit_types::Error> {
        V2::set(self, key, value).await.map_err(error)
    }

    async fn delete(&mut self, key: String) -> Result<bool, wit_types::Error> {
        V2::delete(self, key).await.map_err(error)
    }

    async fn list(
        &mut self,
        prefix: String,
        cursor: Option<String>,
        limit: u32,
    ) -> Result<EntryPage, wit_types::Error> {
        let page = V2::list(self, prefix, cursor, limit).await.map_err(error)?;
        Ok(EntryPage {
            entries: page
                .entries
                .into_iter()
                .map(|e| Entry {
                    key: e.key,
                    value: e.value,
                })
                .collect(),
            next_cursor: page.next_cursor,
        })
    }

    async fn compare_and_swap(
        &mut self,
        key: String,
        expected: Option<Vec<u8>>,
        new: Option<Vec<u8>>,
    ) -> Result<bool, wit_types::Error> {
        V2::compare_and_swap(self, key, expected, new)
            .await
            .map_err(error)
    }
}
