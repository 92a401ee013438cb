// TODO(web): Groups screen.
export function Groups() {
  return <h1>Groups</h1>;
}
