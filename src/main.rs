fn main() {
    println!("wsl-vecprobe");
}
