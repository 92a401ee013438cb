// TODO(web): Wallet screen.
export function Wallet() {
  return <h1>Wallet</h1>;
}
