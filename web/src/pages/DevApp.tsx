// TODO(web): DevApp screen.
export function DevApp() {
  return <h1>DevApp</h1>;
}
