//! Payloads of live points, by internal offset.

use serde_json::{Map, Value};

use crate::types::Payload;

#[derive(Default)]
pub struct PayloadStorage {
    rows: Vec<Option<Map<String, Value>>>,
}

impl PayloadStorage {
    pub fn get(&self, offset: u32) -> Option<&Map<String, Value>> {
        self.rows.get(offset as usize)?.as_ref()
    }

    pub fn set(&mut self, offset: u32, payload: Option<Map<String, Value>>) {
        let i = offset as usize;
        if self.rows.len() <= i {
            self.rows.resize(i + 1, None);
        }
        self.rows[i] = payload;
    }

    pub fn take(&mut self, offset: u32) -> Option<Map<String, Value>> {
        self.rows.get_mut(offset as usize)?.take()
    }

    pub fn to_data(&self) -> Vec<(u32, Payload)> {
        self.rows
            .iter()
            .enumerate()
            .filter_map(|(o, p)| Some((o as u32, Payload(p.clone()?))))
            .collect()
    }

    pub fn from_data(data: Vec<(u32, Payload)>) -> Self {
        let mut s = PayloadStorage::default();
        for (o, p) in data {
            s.set(o, Some(p.0));
        }
        s
    }
}
