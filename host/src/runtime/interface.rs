//! A component's interface as people read it: its world printed as WIT, and
//! the names of what it imports and exports (for reviewers, issue 14).

use wit_component::{DecodedWasm, WitPrinter};

/// What a component imports and exports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// The component's world and the packages it uses, as WIT text.
    pub wit: String,
    /// Imported interfaces and functions (`qun:app/messaging@0.2.0`, ...).
    pub imports: Vec<String>,
    /// Exported interfaces and functions.
    pub exports: Vec<String>,
}

/// Read the interface of the component `wasm`.
pub fn interface(wasm: &[u8]) -> Result<Interface, String> {
    let decoded = wit_component::decode(wasm).map_err(|e| format!("{e:#}"))?;
    let DecodedWasm::Component(resolve, world) = &decoded else {
        return Err("a WIT package, not a component".into());
    };
    let world = &resolve.worlds[*world];
    let names = |items: &wit_parser::IndexMap<wit_parser::WorldKey, wit_parser::WorldItem>| {
        items
            .iter()
            .filter(|(_, item)| !matches!(item, wit_parser::WorldItem::Type { .. }))
            .map(|(key, _)| resolve.name_world_key(key))
            .collect::<Vec<_>>()
    };
    let imports = names(&world.imports);
    let exports = names(&world.exports);
    let main = decoded.package();
    let nested: Vec<_> = resolve
        .packages
        .iter()
        .map(|(id, _)| id)
        .filter(|id| *id != main)
        .collect();
    let mut printer = WitPrinter::default();
    printer
        .print(resolve, main, &nested)
        .map_err(|e| format!("{e:#}"))?;
    Ok(Interface {
        wit: printer.output.to_string(),
        imports,
        exports,
    })
}
