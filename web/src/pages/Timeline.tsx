// TODO(web): Timeline screen.
export function Timeline() {
  return <h1>Timeline</h1>;
}
